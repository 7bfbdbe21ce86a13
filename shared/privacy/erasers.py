"""Provider erasers: the providers' copies of a tenant's data, erased by the deletion cascade
(:mod:`shared.privacy.erase`) through one registry.

An eraser names the provider objects a document points to (``targets``: from a call document,
or from the tenant document) and erases one (``erase``: True when erased, False when the
provider no longer had it; a provider that cannot be reached raises :class:`ProviderUnavailable`
so the job is retried). Erasing is idempotent: a retried job asks again and gets False.

Registered here: Twilio recordings still at Twilio (``recording_ingest`` deletes Twilio's copy
once ours is stored; this catches the ones a failure left), Retell's calls (``call.delete``),
and on the tenant document: the Stripe customer (``shared.billing.services.delete_customer``;
our invoices are kept by law), and the QuickBooks and Google Calendar grants (revoked at the
provider, tokens deleted: ``connections.disconnect``). Each provider's error when it is down is
a ``StoreUnavailable``, so the job is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from shared.ports import Ports, StoreUnavailable
from shared.providers import retell, twilio

Source = Literal["call", "tenant"]


class ProviderUnavailable(StoreUnavailable):
    """A provider could not be reached: the deletion job answers 5xx and is retried."""


@dataclass(frozen=True)
class ProviderEraser:
    name: str  # as the certificate names it: "twilio.recordings", "retell.calls", "stripe.customer" ...
    source: Source  # which documents name its objects
    targets: Callable[[dict[str, Any]], list[str]]
    erase: Callable[[Ports, str], bool]


REGISTRY: list[ProviderEraser] = []


def register(eraser: ProviderEraser) -> ProviderEraser:
    if any(e.name == eraser.name for e in REGISTRY):
        raise ValueError(f"an eraser named {eraser.name!r} is registered")
    REGISTRY.append(eraser)
    return eraser


def of(source: Source) -> list[ProviderEraser]:
    return [e for e in REGISTRY if e.source == source]


def _twilio_recordings(call: dict[str, Any]) -> list[str]:
    return [r["recording_sid"] for r in call.get("recordings") or []
            if isinstance(r, dict) and r.get("source", "twilio") == "twilio" and r.get("recording_sid")]


def _erase_twilio_recording(ports: Ports, recording_sid: str) -> bool:
    return twilio.delete_recording(ports.settings, recording_sid)  # TwilioUnavailable is a StoreUnavailable


def _retell_calls(call: dict[str, Any]) -> list[str]:
    return [call["retell_call_id"]] if call.get("retell_call_id") else []


def _erase_retell_call(ports: Ports, call_id: str) -> bool:
    try:
        return retell.delete_call(ports.settings, call_id)
    except retell.RetellUnavailable as exc:
        raise ProviderUnavailable(str(exc)) from None


register(ProviderEraser("twilio.recordings", "call", _twilio_recordings, _erase_twilio_recording))
register(ProviderEraser("retell.calls", "call", _retell_calls, _erase_retell_call))


def _the_tenant(tenant: dict[str, Any]) -> list[str]:
    return [tenant["id"]] if tenant.get("id") else []


def _erase_stripe_customer(ports: Ports, tenant_id: str) -> bool:
    from shared.billing.services import delete_customer

    return delete_customer(ports, tenant_id)


def _revoke_quickbooks(ports: Ports, tenant_id: str) -> bool:
    from shared.quickbooks.connect import disconnect

    return disconnect(ports, tenant_id, actor_user_id=None, reason="operator")


def _revoke_google_calendar(ports: Ports, tenant_id: str) -> bool:
    from shared.calendar.connect import disconnect

    return disconnect(ports, tenant_id, actor_user_id=None, reason="operator")


register(ProviderEraser("stripe.customer", "tenant", _the_tenant, _erase_stripe_customer))
register(ProviderEraser("quickbooks.grant", "tenant", _the_tenant, _revoke_quickbooks))
register(ProviderEraser("google_calendar.grant", "tenant", _the_tenant, _revoke_google_calendar))
