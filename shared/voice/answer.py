"""Answering a call (``voice_answer``): route it, register it with the AI agent when the route
says so, write the route on the call record, answer with TwiML.

The caller listens to silence while ``voice_answer`` works, so its path is kept short: one
``get_many`` for the tenant, the call and the caller's contact (``shared.voice.lookup``), one
blind write of our own keys (``shared.voice.calls.record_route``), and TwiML rendered once per
settings version (``shared.voice.render``).

Choices written down here:

* The recording notice is played once per call, before the first recorded verb. The call record
  remembers it, so a forward that nobody answers goes to voicemail without repeating it.
* ``voice_answer`` running twice for one call (Twilio retried after a network error) reuses the
  Retell call it registered the first time instead of registering another one.
* Blocked callers get a call record (``route: rejected``): the business can see who was kept out.
* A call whose record has a terminal status (``calls.TERMINAL``) is over: ``voice_answer`` and the
  Gather/Dial steps of ``voice_ivr`` answer ``<Hangup/>`` and write nothing. Twilio signatures
  carry no timestamp, so this is what stops a captured request, replayed, from registering a new
  Retell call or rerouting a finished call. ``voice_answer`` sees the status in the call it reads
  anyway; the other writes check it inside their transaction (the blind create of a new call
  stays blind: it fails if a record appeared meanwhile, and only then is the status read).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.ports import Ports
from shared.providers import retell
from shared.voice import fallback, twiml
from shared.voice.calls import CallAlreadyOver, is_over, record_route
from shared.voice.lookup import load_for_answer
from shared.voice.params import CallParams
from shared.voice.render import render, replayed
from shared.voice.routing import Caller, Route, decide
from shared.voice.settings import greeting, normalize_any

log = get_logger("z3.voice")


def dynamic_variables(tenant: Tenant, caller_name: str | None, now: dt.datetime) -> dict[str, str]:
    """What the Retell agent's prompt can use as ``{{name}}``. All strings (Retell's rule);
    ``caller_name`` is empty for callers the business does not know."""
    local = now.astimezone(tenant.zone)
    voice = tenant.settings.voice
    is_open, _why = voice.open_at(local)
    hour = local.hour % 12 or 12
    return {
        "business_name": tenant.name,
        "business_hours": voice.describe_hours(),
        "greeting": greeting(tenant),
        "today": f"{local:%A, %B} {local.day}, {local.year}",
        "current_time": f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}",
        "time_zone": tenant.time_zone,
        "time_zone_abbreviation": local.tzname() or "",
        "open_now": "yes" if is_open else "no",
        "caller_name": caller_name or "",
        "caller_known": "yes" if caller_name else "no",
    }


def answer_call(ports: Ports, params: CallParams, query: Mapping[str, str]) -> str:
    """The Voice URL: route a new call. ``route=ai`` (with ``t``) comes from our own IVR redirect."""
    store = ports.store()
    now = ports.clock().now()
    caller = normalize_any(params.From)
    loaded = load_for_answer(store, params, query, caller)
    if loaded is None:
        log.info("call to a number no business uses", extra={"call_sid": params.CallSid})
        return twiml.not_in_service()
    tenant, existing = loaded.tenant, loaded.call
    if is_over(existing):
        return replayed(tenant.id, params)
    caller_name = (loaded.contact or {}).get("name") or None

    forced = query.get("route")
    if forced is not None and forced != "ai":
        raise InvalidInput("unknown route parameter")
    if forced == "ai":
        option = (query.get("option") or "")[:1]
        label = tenant.settings.voice.ivr.options.get(option)
        route = Route("ai", "ivr_choice", f"chose {option}: {label.label}" if label else "chose the AI agent",
                      record=True, option=option or None)
        if not tenant.settings.voice.ai_enabled:
            route = Route("voicemail", "ai_disabled", "the AI agent is turned off", record=True)
    else:
        route = decide(tenant, tenant.settings.voice, Caller(caller, caller_name), now)

    retell_call_id = None
    if route.action == "ai":
        route, retell_call_id = connect_ai(ports, tenant, params, route, caller=caller, caller_name=caller_name,
                                           existing=existing, now=now)
    try:
        play = record_route(ports, tenant, params, route, now, caller=caller, caller_name=caller_name,
                            retell_call_id=retell_call_id, snapshot=existing)
    except CallAlreadyOver:
        return replayed(tenant.id, params)
    return render(ports, tenant, route, play_notice=play, retell_call_id=retell_call_id,
                  cache_key=loaded.version)


def answer_fallback(ports: Ports, params: CallParams, query: Mapping[str, str]) -> str:
    """Twilio's Fallback URL of a number (``voice_answer?fallback=1``): Twilio calls it when the
    Voice URL failed (a 503 while the store is down, a timeout). The caller must not hear Twilio's
    "application error": try the ordinary answer once more (the outage may be over); if that
    fails too or takes longer than ``fallback.FALLBACK_BUDGET_SECONDS``, take a voicemail with the
    settings this instance last read for the number (the recording callback names the business,
    so the message is ingested once the store is back; blocked callers and closed accounts are
    still turned away), or, for a number this instance has not seen, apologise and hang up.
    Raises only for a malformed request (400)."""
    ordinary = {k: v for k, v in query.items() if k != "fallback"}
    try:
        return fallback.within_budget(lambda: answer_call(ports, params, ordinary))
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line before Twilio's error message (incl. timeout)
        log.error("answering on the fallback path without the store",
                  extra={"call_sid": params.CallSid, "reason": type(exc).__name__})
    return fallback.answer_without_store(ports, params, query)


def connect_ai(ports: Ports, tenant: Tenant, params: CallParams, route: Route, *, caller: str | None,
               caller_name: str | None, existing: dict[str, Any] | None, now: dt.datetime) -> tuple[Route, str | None]:
    """Register the call with Retell within the budget; on failure the caller gets voicemail and
    the route says why (``ai_unavailable``)."""
    if existing and existing.get("retell_call_id") and existing.get("route") == "ai":
        return route, existing["retell_call_id"]
    settings = ports.settings
    try:
        call_id = retell.register_call(
            settings, agent_id=tenant.settings.voice.agent_id or settings.retell_agent_id,
            from_number=caller, to_number=normalize_any(params.To) or params.To,
            metadata={"tenant_id": tenant.id, "call_sid": params.CallSid},
            dynamic_variables=dynamic_variables(tenant, caller_name, now))
    except retell.RetellUnavailable as exc:
        log.warning("AI agent unavailable, taking a voicemail",
                    extra={"tenant_id": tenant.id, "call_sid": params.CallSid, "reason": exc.reason})
        return Route("voicemail", "ai_unavailable", exc.reason, record=True, option=route.option), None
    return route, call_id
