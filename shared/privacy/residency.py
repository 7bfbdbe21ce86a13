"""US only: existing accounts that look like they are in the EU/EEA (or elsewhere outside the
US) are flagged for deletion and their owner is told; ``scripts/ops tenant purge`` deletes them
after the notice period. (Sign-up from the EU/EEA is refused by ``shared.tenants``.)

Signals, strongest first: the business address's country, the account's country, the country
of the contact phone number (E.164 country code), and the countries of sign-in IPs when the load
balancer provides them (its ``X-Client-Region`` header, passed in by the caller: today nothing
records it, so this signal is empty). A US (or absent) signal never flags. Flagging is
idempotent: an account already flagged is not flagged (or emailed) again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from shared.accounts import audit
from shared.models.tenant import EU_EEA, Tenant, TenantStatus
from shared.notifications import notify_business
from shared.ports import DocumentStore, Ports
from shared.tenants import get_tenant, list_tenants

NOTICE = dt.timedelta(days=30)
# E.164 country codes of the EU/EEA (the +1 plan is the US and its neighbours: never a signal)
EU_EEA_CALLING_CODES = {
    "43": "AT", "32": "BE", "359": "BG", "385": "HR", "357": "CY", "420": "CZ", "45": "DK", "372": "EE",
    "358": "FI", "33": "FR", "49": "DE", "30": "GR", "36": "HU", "353": "IE", "39": "IT", "371": "LV",
    "370": "LT", "352": "LU", "356": "MT", "31": "NL", "48": "PL", "351": "PT", "40": "RO", "421": "SK",
    "386": "SI", "34": "ES", "46": "SE", "354": "IS", "423": "LI", "47": "NO",
}


_SOURCES = {"address": "business address", "account": "account country", "phone": "contact phone number",
            "sign_in_ip": "sign-in location"}


@dataclass(frozen=True)
class Signal:
    source: str  # "address" | "account" | "phone" | "sign_in_ip"
    country: str

    @property
    def reason(self) -> str:
        return f"{_SOURCES[self.source]} in {self.country}"


def phone_country(e164: str | None) -> str | None:
    if not e164 or not e164.startswith("+") or e164.startswith("+1"):
        return None
    digits = e164[1:]
    for length in (3, 2):
        if digits[:length] in EU_EEA_CALLING_CODES:
            return EU_EEA_CALLING_CODES[digits[:length]]
    return None


def signals(tenant: Tenant, sign_in_countries: Iterable[str] = ()) -> list[Signal]:
    found = [Signal("address", tenant.address.country.upper()), Signal("account", tenant.country.upper())]
    country = phone_country(tenant.contact.phone)
    if country:
        found.append(Signal("phone", country))
    found += [Signal("sign_in_ip", c.upper()) for c in sign_in_countries if c]
    return [s for s in found if s.country and s.country in EU_EEA]


def flag(ports: Ports, tenant_id: str, *, sign_in_countries: Iterable[str] = ()) -> Signal | None:
    """Flag the account if a signal places it in the EU/EEA; email the owner once. Returns the
    signal that flagged it (None: not flagged now)."""
    store = ports.store()
    tenant = get_tenant(store, tenant_id)
    if tenant is None or tenant.status in (TenantStatus.flagged_for_deletion, TenantStatus.closed):
        return None
    found = signals(tenant, sign_in_countries)
    if not found:
        return None
    now = ports.clock().now()
    signal = found[0]
    store.update(f"tenants/{tenant_id}", {"status": TenantStatus.flagged_for_deletion.value,
                                          "status_reason": f"believed to be in the EU/EEA ({signal.reason})",
                                          "flagged_at": now, "updated_at": now})
    audit.record(store, now, tenant_id=tenant_id, action="account.flagged_for_deletion", actor_user_id=None,
                 changes={"signal": signal.source, "country": signal.country})
    notify_business(ports, tenant_id=tenant_id, template="account_flagged",
                    context={"reason": signal.reason, "delete_after": (now + NOTICE).isoformat()},
                    dedup_key=f"account_flagged/{tenant_id}/{now.date().isoformat()}")
    return signal


def flag_all(ports: Ports) -> list[tuple[str, Signal]]:
    flagged = []
    for tenant in list_tenants(ports.store()):
        signal = flag(ports, tenant.id)
        if signal is not None:
            flagged.append((tenant.id, signal))
    return flagged


def notice_ends(store: DocumentStore, tenant_id: str) -> dt.datetime | None:
    """When the owner's notice is over (None: the account is not flagged for deletion)."""
    data = store.get(f"tenants/{tenant_id}") or {}
    if data.get("status") != TenantStatus.flagged_for_deletion.value:
        return None
    flagged_at = data.get("flagged_at") or data.get("updated_at")  # flagged by hand: from the status change
    return flagged_at + NOTICE if isinstance(flagged_at, dt.datetime) else None
