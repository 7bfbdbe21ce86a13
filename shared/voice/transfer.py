"""Moving a live AI call to a person (the ``transfer_call`` tool's telephony).

Calls reach Retell by ``<Dial><Sip>`` (custom telephony), where Retell's own transfer is not
available: the transfer is ours. We redirect the live Twilio call (REST call update with new
TwiML). Twilio then ends the ``<Dial>`` to Retell (the AI leg hangs up; its ``action`` URL is
still requested, and ``voice_ivr`` answers it without routing, since the call has moved on) and
runs the new TwiML: the forward route's TwiML (``shared.voice.render.render``, the same builder as any
forward), dialling the one person, with the business's forward timeout and recording rule. The
recording notice follows the forward route's rule: it was played before the AI answered, so it
is not repeated. The ``<Dial>``'s action (``voice_ivr?step=dial&kind=transfer``) records the
outcome on the call and takes a voicemail when nobody answers, is busy or the dial failed.

The call record keeps ``ai_transfer``: ``{to, name, status, claimed_at, redirected_at,
dial_status, answered_at, ended_at}``; ``status`` is ``redirecting`` (claimed, Twilio asked),
``dialing``, then ``answered`` | ``no-answer`` | ``busy`` | ``failed`` | ``caller_gone``.

Idempotent under Retell's retries (up to 2): the claim is written in a transaction before Twilio
is asked, so a retried tool call answers the same and never redirects twice. A claim whose
redirect failed on a Twilio outage is released (so the retry redirects); a claim left by an
instance that died mid-request is taken over after :data:`CLAIM_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.ports import StoreUnavailable
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.voice.calls import call_path, record_route
from shared.voice.params import CallParams
from shared.voice.render import render
from shared.voice.routing import TRANSFER_REASON, Route

log = get_logger("z3.voice.transfer")

CLAIM_SECONDS = 20


class TransferFailed(Exception):
    """The call could not be moved (the caller hung up): tell the agent."""


@dataclass(frozen=True)
class Transfer:
    to: str
    name: str
    repeated: bool  # an earlier (retried) tool call already moved the call


def transfer_route(tenant: Tenant, number: str, name: str) -> Route:
    return Route("forward", TRANSFER_REASON, f"the AI agent transferred the caller to {name}", forward_to=(number,),
                 record=tenant.settings.voice.record_forwarded_calls)


def transfer_live_call(ports: Ports, tenant: Tenant, call_sid: str, *, number: str, name: str,
                       now: dt.datetime) -> Transfer:
    """Redirect the live call to ``number``. Raises :class:`TransferFailed` when the call is over,
    ``StoreUnavailable`` (incl. a Twilio outage) to be retried."""
    from shared.providers import twilio

    scope = TenantScope(ports.store(), tenant.id)
    path = call_path(call_sid)

    def claim(tx) -> tuple[dict[str, Any] | None, bool]:
        doc = tx.get(path) or {}
        held = doc.get("ai_transfer") or {}
        if held.get("redirected_at") or held.get("status") == "caller_gone":
            return held, False
        claimed = held.get("claimed_at")
        if held.get("status") == "redirecting" and claimed and now - claimed < dt.timedelta(seconds=CLAIM_SECONDS):
            return held, False
        mine = {"to": number, "name": name, "status": "redirecting", "claimed_at": now}
        tx.set(path, {"call_sid": call_sid, "ai_transfer": mine}, merge=True)
        return mine, True

    held, mine = scope.transaction(claim)
    if not mine:
        if held.get("status") == "caller_gone":
            raise TransferFailed("the caller has hung up")
        return Transfer(held.get("to") or number, held.get("name") or name, repeated=True)

    route = transfer_route(tenant, number, name)
    params = CallParams(CallSid=call_sid, AccountSid=ports.settings.twilio_account_sid)
    try:
        play = record_route(ports, tenant, params, route, now)
        twiml = render(ports, tenant, route, play_notice=play)
        twilio.redirect_call(ports.settings, call_sid, twiml)
    except twilio.CallNotLive:
        scope.set(path, {"ai_transfer": {**held, "status": "caller_gone"}}, merge=True)
        log.info("transfer: the call is over", extra={"tenant_id": tenant.id, "call_sid": call_sid})
        raise TransferFailed("the caller has hung up") from None
    except StoreUnavailable:
        _release(scope, path, now)
        raise
    _mark_redirected(scope, path, now)
    log.info("call transferred", extra={"tenant_id": tenant.id, "call_sid": call_sid})
    return Transfer(number, name, repeated=False)


def _mark_redirected(scope: TenantScope, path: str, now: dt.datetime) -> None:
    """Note the redirect, keeping what Twilio's callbacks may have written meanwhile (the
    person's phone can answer before Twilio's answer to our update has reached us)."""
    def mark(tx) -> None:
        held = dict((tx.get(path) or {}).get("ai_transfer") or {})
        held["redirected_at"] = now
        if held.get("status") == "redirecting":
            held["status"] = "dialing"
        tx.set(path, {"ai_transfer": held}, merge=True)

    scope.transaction(mark)


def _release(scope: TenantScope, path: str, now: dt.datetime) -> None:
    """Give the claim back so Retell's retry can redirect (best effort: the claim expires anyway)."""
    def release(tx) -> None:
        doc = tx.get(path) or {}
        held = doc.get("ai_transfer") or {}
        if held.get("status") == "redirecting" and held.get("claimed_at") == now:
            tx.set(path, {"ai_transfer": {**held, "status": "retry", "claimed_at": None}}, merge=True)

    try:
        scope.transaction(release)
    except StoreUnavailable:
        pass
