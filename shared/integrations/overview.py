"""A business's integrations as Settings → Integrations and ``GET /integrations`` show them, and
the connect / disconnect of each provider by name (the one place that maps a provider name to
its package: ``shared.quickbooks.connect``, ``shared.calendar.connect``).

Status per provider: ``never`` (no connection document), ``connected`` or ``disconnected``
(the document stays after a disconnect: who, when, why), who connected and when, the account
(QuickBooks' company id; Google's calendar and its name), QuickBooks' invoice item and rate, the
last successful sync and the last permanent failure. Never any token material: the connection
goes through :func:`shared.integrations.connections.public` and then a fixed list of fields.

Last sync: QuickBooks' newest ``synced_at`` of an invoice or a customer; Google's newest
``calendar_synced_at`` of an appointment (one-field queries, limit 1: no scan, no index).
Last error: QuickBooks' newest ``quickbooks_sync_failures`` entry; Google records none (a failed
calendar write stays pending for the repair, ``POST /integrations/google_calendar/sync``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.calendar import connect as calendar_connect
from shared.integrations import connections
from shared.integrations.connections import PROVIDER_LABELS
from shared.quickbooks import connect as quickbooks_connect
from shared.quickbooks.report import FAILURES
from shared.quickbooks.sync import CUSTOMERS, INVOICES
from shared.ports import Ports
from shared.scheduling.appointments import APPOINTMENTS
from shared.tenants import TenantScope

PROVIDERS: tuple[str, ...] = ("quickbooks", "google_calendar")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class UnknownProvider(LookupError):
    """Not a provider we connect to."""


def check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise UnknownProvider(f"no provider {provider[:40]!r}")
    return provider


def _newest(scope: TenantScope, collection: str, field: str) -> dict[str, Any] | None:
    query = scope.collection(collection).where(field, ">", _EPOCH).order_by(field, "desc").page(1)
    found = scope.query(query)
    return found[0].data if found else None


def _latest(*times: dt.datetime | None) -> dt.datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def last_failure(ports: Ports, tenant_id: str) -> dict[str, Any] | None:
    """QuickBooks' newest permanent failure (kind, Intuit's status and fault code, when)."""
    found = _newest(TenantScope(ports.store(), tenant_id), FAILURES, "at")
    if found is None:
        return None
    return {key: found.get(key) for key in ("appointment_id", "kind", "status", "code", "at")}


def _sync_facts(ports: Ports, tenant_id: str, provider: str) -> dict[str, Any]:
    scope = TenantScope(ports.store(), tenant_id)
    if provider == "quickbooks":
        invoice, customer = _newest(scope, INVOICES, "synced_at"), _newest(scope, CUSTOMERS, "synced_at")
        return {"last_sync_at": _latest((invoice or {}).get("synced_at"), (customer or {}).get("synced_at")),
                "last_error": last_failure(ports, tenant_id)}
    appointment = _newest(scope, APPOINTMENTS, "calendar_synced_at")
    return {"last_sync_at": (appointment or {}).get("calendar_synced_at"), "last_error": None}


def status(ports: Ports, tenant_id: str, provider: str) -> dict[str, Any]:
    """One provider's status (the fields :mod:`shared.web.api.v1.integrations` answers)."""
    check_provider(provider)
    data = connections.get(ports, tenant_id, provider)
    out: dict[str, Any] = {"provider": provider, "label": PROVIDER_LABELS[provider], "status": "never",
                           "connected_at": None, "connected_by": None, "disconnected_at": None,
                           "disconnected_by": None, "disconnect_reason": None, "account": None,
                           "calendar_id": None, "item_id": None, "rate": None, "last_sync_at": None,
                           "last_error": None}
    if data is None:
        return out
    details = data.get("details") or {}
    out.update({key: data.get(key) for key in ("status", "connected_at", "connected_by", "disconnected_at",
                                               "disconnected_by", "disconnect_reason")})
    if provider == "quickbooks":
        out.update(account=f"Company {data['account_id']}" if data.get("account_id") else None,
                   item_id=details.get("item_id"), rate=details.get("rate"))
    else:
        out.update(account=details.get("calendar_name"), calendar_id=details.get("calendar_id"))
    out.update(_sync_facts(ports, tenant_id, provider))
    return out


def overview(ports: Ports, tenant_id: str) -> list[dict[str, Any]]:
    return [status(ports, tenant_id, provider) for provider in PROVIDERS]


def start(ports: Ports, tenant_id: str, provider: str, *, user_id: str, binding: str,
          calendar_id: str | None = None) -> str:
    """The provider's authorize URL for a new connect flow (``binding``: whose flow it is)."""
    if check_provider(provider) == "google_calendar":
        return calendar_connect.start(ports, tenant_id=tenant_id, user_id=user_id, binding=binding,
                                      calendar_id=calendar_id)
    return quickbooks_connect.start(ports, tenant_id=tenant_id, user_id=user_id, binding=binding)


def disconnect(ports: Ports, tenant_id: str, provider: str, *, actor_user_id: str, reason: str = "settings") -> bool:
    """Revoke at the provider first (down: raises, nothing deleted), then delete the tokens and
    audit who; False when it was not connected."""
    module = calendar_connect if check_provider(provider) == "google_calendar" else quickbooks_connect
    return module.disconnect(ports, tenant_id, actor_user_id=actor_user_id, reason=reason)
