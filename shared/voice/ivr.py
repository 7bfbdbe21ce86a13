"""What follows inside a call (``voice_ivr``): the IVR menu's answer (Gather action), a forward,
AI or transfer ``<Dial>`` that ended (Dial action), a voicemail that was recorded (Record action).

* An IVR choice that goes to the AI agent is a ``<Redirect>`` to ``voice_answer?route=ai``:
  only ``voice_answer`` registers calls with Retell, so only it pays for importing the Retell
  SDK (at instance start-up). The redirect costs the caller one Twilio round trip.
* A call whose record has a terminal status is over: the Gather and Dial steps answer
  ``<Hangup/>`` and write nothing (a replayed request cannot reroute a finished call; see
  ``shared.voice.calls.record_route``). The Record action (``step=recorded``) is left alone:
  its marker is the same on a replay, and a caller who hangs up while recording reaches it
  after the call ended.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.pii.cards import mask_cards_in
from shared.ports import Ports, StoreUnavailable
from shared.tenants import TenantScope
from shared.voice import twiml
from shared.voice.calls import (
    TERMINAL, CallAlreadyOver, call_path, record_route, route_patch, transfer_claimed, transfer_dial_patch,
)
from shared.voice.listing import with_listing
from shared.voice.lookup import find_tenant, parse_tenant, tenant_param
from shared.voice.params import CallParams, DialParams, GatherParams
from shared.voice.render import render, replayed
from shared.voice.routing import Route, after_dial, route_choice
from shared.voice.settings import normalize_any, notice_text
from shared.voice.status import publish_if_over

log = get_logger("z3.voice")


def continue_call(ports: Ports, form: Mapping[str, str], query: Mapping[str, str]) -> str:
    """Gather, Dial and Record actions: ``step=menu`` (default), ``dial`` or ``recorded``."""
    step = query.get("step", "menu")
    if step not in ("menu", "dial", "recorded"):
        raise InvalidInput("unknown step")
    if step == "recorded":
        _note_voicemail(ports, CallParams.parse(form), form, query)
        return twiml.hangup(twiml.VOICEMAIL_THANKS)
    store = ports.store()
    now = ports.clock().now()
    params: CallParams = (GatherParams if step == "menu" else DialParams).parse(form)
    tenant_id = find_tenant(store, params, query)
    data = store.get(f"tenants/{tenant_id}") if tenant_id else None
    if data is None:
        log.info("call continued for an unknown business", extra={"call_sid": params.CallSid})
        return twiml.not_in_service()
    tenant = parse_tenant(data)
    try:
        if step == "menu":
            assert isinstance(params, GatherParams)
            return _menu_choice(ports, tenant, params, query, now)
        assert isinstance(params, DialParams)
        return _after_dial(ports, tenant, params, query, now)
    except CallAlreadyOver:
        return replayed(tenant.id, params)



def _note_voicemail(ports: Ports, params: CallParams, form: Mapping[str, str], query: Mapping[str, str]) -> None:
    """The Record action: note on the call whether a message was recorded, so the call summary
    knows whether to wait for the recording (``shared.voice.post_call``). Best effort: the caller
    has left the message and must hear the thanks, not an error, so a store outage is only
    logged (the summary then waits for the recording up to its bound instead)."""
    tenant_id = tenant_param(query)
    if tenant_id is None:
        return
    sid = (form.get("RecordingSid") or "").strip()
    try:
        duration = int(form.get("RecordingDuration") or 0)
    except ValueError:
        duration = 0
    recorded = bool(sid) and duration > 0
    marker = {"voicemail": {"recording_sid": sid if recorded else None, "duration": duration if recorded else 0}}
    try:
        if query.get("fallback"):
            _record_fallback_voicemail(ports, tenant_id, params, marker)
        else:
            TenantScope(ports.store(), tenant_id).set(call_path(params.CallSid), marker, merge=True)
    except StoreUnavailable:
        log.warning("could not note the voicemail on the call", extra={"call_sid": params.CallSid,
                                                                       "tenant_id": tenant_id})


def _record_fallback_voicemail(ports: Ports, tenant_id: str, params: CallParams, marker: dict[str, Any]) -> None:
    """A voicemail the Fallback URL took while the store was down has no route on its call yet:
    write it now (the store answers again), and if the call already ended without one, publish
    its completion, so the business still gets the summary of that message."""
    store = ports.store()
    data = store.get(f"tenants/{tenant_id}")
    if data is None:
        return
    tenant = parse_tenant(data)
    now = ports.clock().now()
    scope = TenantScope(store, tenant_id)
    path = scope.path(call_path(params.CallSid))
    route = Route("voicemail", "store_unavailable", "answered by the Fallback URL while the store was unavailable",
                  record=True)

    def write(tx) -> dict[str, Any]:
        doc = tx.get(path) or {}
        # Always: even if a slow ordinary answer wrote another route after the fallback gave up
        # on it, the caller got the fallback's voicemail (the history keeps both).
        patch: dict[str, Any] = dict(marker)
        patch.update(route_patch(doc, route, now, tenant=tenant, params=params, caller=normalize_any(params.From),
                                 caller_name=None, play_notice=True, with_status=False))
        patch = with_listing(doc, patch)  # the calls list's outcome and search terms, as every call writer
        tx.set(path, patch, merge=True)
        return {**doc, **patch}

    record = store.transaction(write)
    if record.get("status") in TERMINAL:
        publish_if_over(ports, scope, params.CallSid, record["status"], record, now)


def _menu_choice(ports: Ports, tenant: Tenant, params: GatherParams, query: Mapping[str, str], now: dt.datetime) -> str:
    try:
        attempt = int(query.get("attempt", "1"))
    except ValueError:
        raise InvalidInput("attempt must be a number") from None
    if not 1 <= attempt <= 10:
        raise InvalidInput("attempt out of range")
    voice = tenant.settings.voice
    route = route_choice(voice, digits=params.Digits, speech=params.SpeechResult, attempt=attempt)
    ivr = mask_cards_in({"digits": params.Digits or None, "speech": params.SpeechResult or None, "attempts": attempt})
    if route.action == "ai":
        # voice_answer registers the call with Retell; write the choice, then hand over.
        record_route(ports, tenant, params, Route("ivr", "ivr_choice", route.detail, record=True, option=route.option),
                     now, ivr=ivr)
        return _redirect(twiml.url(ports.settings, "voice_answer", t=tenant.id, route="ai", option=route.option))
    play = record_route(ports, tenant, params, route, now, ivr=ivr)
    if route.action == "ivr":
        return twiml.ivr_menu(voice.ivr, notice=notice_text(tenant) if play else None, greeting=None,
                              action=twiml.url(ports.settings, "voice_ivr", t=tenant.id, attempt=attempt + 1),
                              retry=True)
    return render(ports, tenant, route, play_notice=play)


def _after_dial(ports: Ports, tenant: Tenant, params: DialParams, query: Mapping[str, str], now: dt.datetime) -> str:
    kind = query.get("kind")
    if kind not in ("forward", "ai", "transfer"):
        raise InvalidInput("unknown dial kind")
    if kind != "forward":
        scope = TenantScope(ports.store(), tenant.id)
        if kind == "ai" and transfer_claimed(scope.get(call_path(params.CallSid))):
            # The AI agent transferred the call: Twilio ended this <Dial> to run the transfer's
            # TwiML and ignores what we answer here. Nothing to route.
            return twiml.hangup()
        if kind == "transfer":
            _note_transfer_dial(scope, params, now)
    route = after_dial(kind, params.DialCallStatus, params.CallStatus)  # type: ignore[arg-type]
    if route is None:
        return twiml.hangup()
    play = record_route(ports, tenant, params, route, now)
    return render(ports, tenant, route, play_notice=play)


def _note_transfer_dial(scope: TenantScope, params: DialParams, now: dt.datetime) -> None:
    path = call_path(params.CallSid)

    def write(tx) -> None:
        patch = transfer_dial_patch(tx.get(path), params.DialCallStatus, params.DialCallDuration, now)
        if patch:
            tx.set(path, patch, merge=True)

    scope.transaction(write)


def _redirect(target: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.redirect(target, method="POST")
    return str(response)
