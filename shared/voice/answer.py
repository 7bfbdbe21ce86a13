"""Answering a call (``voice_answer``) and what follows inside the call (``voice_ivr``): route it,
write the call record, render the TwiML.

The caller listens to silence while ``voice_answer`` works, so its path is kept short: one
``get_many`` for the tenant, the call and the caller's contact (plus the number's owner the first
time an instance sees the number), one blind write of our own keys (a create on the first
answer), and TwiML rendered once per settings version. The per-instance caches are verified
against the documents just read on every use:
none of them can serve an old setting (see ``_OWNERS``, ``_PARSED``, ``_RENDERED``).

Choices written down here:

* An IVR choice that goes to the AI agent is a ``<Redirect>`` to ``voice_answer?route=ai``:
  only ``voice_answer`` registers calls with Retell, so only it pays for importing the Retell
  SDK (at instance start-up). The redirect costs the caller one Twilio round trip.
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
  stays blind: it fails if a record appeared meanwhile, and only then is the status read). The
  Record action (``step=recorded``) is left alone: its marker is the same on a replay, and a
  caller who hangs up while recording reaches it after the call ended.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from shared.http import BadRequest
from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.pii.cards import mask_cards_in
from shared.ports import AlreadyExists
from shared.runtime import Ports
from shared.tenants import TenantScope
from shared.voice import twiml
from shared.voice.calls import (
    TERMINAL, call_path, expire_at, retell_index_path, status_patch, transfer_claimed, transfer_dial_patch,
)
from shared.voice.contacts import contact_path
from shared.voice.params import CallParams, DialParams, GatherParams
from shared.voice.routing import TRANSFER_REASON, Caller, Route, after_dial, decide, route_choice
from shared.voice.settings import DEFAULT_RECORDING_NOTICE, DEFAULT_VOICEMAIL_PROMPT, normalize_any

log = get_logger("z3.voice")


# --- finding the tenant ------------------------------------------------------------------------

def tenant_param(query: Mapping[str, str]) -> str | None:
    value = query.get("t")
    if value is None:
        return None
    if not value or len(value) > 64 or not all(c.isalnum() or c in "_-" for c in value):
        raise BadRequest("invalid tenant parameter")
    return value


def _owner_of(store, number: str | None) -> str | None:
    if number is None:
        return None
    entry = store.get(f"phone_numbers/{number}")
    return entry.get("tenant_id") if entry else None


def find_tenant(store, params: CallParams, query: Mapping[str, str]) -> str | None:
    """The tenant a Twilio request is about: the ``t`` we put into our own callback URLs (signed
    by Twilio as part of the URL), else the owner of the called number."""
    from shared.phone import try_normalize_us

    return tenant_param(query) or _owner_of(store, try_normalize_us(params.To))


class _Memo:
    """A small bounded dict (cleared when full): per-instance caches of the answer path."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def put(self, key: Any, value: Any) -> Any:
        if len(self.data) >= self.size:
            self.data.clear()
        self.data[key] = value
        return value

    def forget(self, key: Any) -> None:
        self.data.pop(key, None)


# number -> tenant id. Ids only, and checked on every use against the tenant document we read
# anyway (it lists its numbers), so a number that moved is looked up again, never misrouted.
_OWNERS = _Memo(4096)
# tenant id -> (the tenant document as last parsed, its Tenant, a version token). Verified on
# every use: the document just read must equal (``==``, a C-level walk, cheaper than building a
# key from it) the one parsed, else it is parsed again under a new token. It only skips
# re-validating the same document (~0.2 ms per call); it never serves old settings.
_PARSED = _Memo(256)
_VERSIONS = itertools.count(1)

# (base URL, tenant version token, route, notice) -> TwiML, for the routes whose TwiML has
# nothing call-specific (all but the AI agent's SIP address). A changed document has a new token.
_RENDERED = _Memo(512)


class _Parsed(NamedTuple):
    doc: dict[str, Any]  # a private copy: a caller changing its dict must not change what we compare with
    tenant: Tenant
    version: int


def parsed_tenant(data: dict[str, Any]) -> tuple[Tenant, int]:
    """The Tenant of a tenant document and the version token of that exact content."""
    key = data.get("id") or repr(data)
    hit = _PARSED.get(key)
    if hit is None or hit.doc != data:
        hit = _PARSED.put(key, _Parsed(copy.deepcopy(data), Tenant.from_doc(data), next(_VERSIONS)))
    return hit.tenant, hit.version


def parse_tenant(data: dict[str, Any]) -> Tenant:
    return parsed_tenant(data)[0]


@dataclass
class Loaded:
    tenant: Tenant
    call: dict[str, Any] | None
    contact: dict[str, Any] | None
    version: int  # of the tenant document's content: what the TwiML of a route depends on


def load_for_answer(store, params: CallParams, query: Mapping[str, str], caller: str | None) -> Loaded | None:
    """The tenant, the call document (if any) and the caller's contact, in one ``get_many`` when
    the number's owner is known to this instance (else one more read first)."""
    from shared.phone import try_normalize_us

    explicit = tenant_param(query)
    number = try_normalize_us(params.To)
    tenant_id = explicit or _OWNERS.get(number)
    for _ in range(2):
        cached = tenant_id is not None and not explicit
        if tenant_id is None:
            tenant_id = _owner_of(store, number)
            if tenant_id is None:
                return None
        scope = TenantScope(store, tenant_id)
        paths = [scope.root, scope.path(call_path(params.CallSid))]
        if caller:
            paths.append(scope.path(contact_path(caller)))
        docs = store.get_many(paths)
        data = docs.get(scope.root)
        if data is not None and (explicit or number in (data.get("numbers") or [])):
            if not explicit and number:
                _OWNERS.put(number, tenant_id)
            tenant, version = parsed_tenant(data)
            return Loaded(tenant, docs.get(paths[1]), docs.get(paths[2]) if caller else None, version)
        if not cached:
            if data is None:
                log.warning("call for a tenant that does not exist", extra={"call_sid": params.CallSid,
                                                                            "tenant_id": tenant_id})
            return None
        _OWNERS.forget(number)  # the number moved: look it up again
        tenant_id = None
    return None


# --- texts -------------------------------------------------------------------------------------

def greeting(tenant: Tenant) -> str:
    """The one greeting (``voice.greeting``; a legacy ``settings.greeting`` is read into it), for
    every path that greets: the IVR menu and the AI agent's ``{{greeting}}``. The voicemail route
    speaks the business's own ``voicemail_prompt`` instead."""
    return tenant.settings.voice.greeting or f"Thanks for calling {tenant.name}."


def notice_text(tenant: Tenant) -> str:
    return tenant.settings.recording_notice or DEFAULT_RECORDING_NOTICE


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


# --- the call record ---------------------------------------------------------------------------

def route_patch(doc: dict[str, Any] | None, route: Route, now: dt.datetime, *, tenant: Tenant, params: CallParams,
                caller: str | None, caller_name: str | None, play_notice: bool,
                retell_call_id: str | None = None, with_status: bool = True) -> dict[str, Any]:
    """The keys ``voice_answer``/``voice_ivr`` merge into the call document for ``route``.
    ``with_status=False`` leaves the status keys out (a write that did not read them in the same
    transaction must not touch them)."""
    doc = doc or {}
    patch: dict[str, Any] = {"call_sid": params.CallSid}
    if not doc.get("created_at"):
        patch.update(created_at=now, started_at=now,
                     expire_at=expire_at(now, tenant.settings.recording_retention_days))
    if "recording_notice_played" not in doc:
        patch["recording_notice_played"] = False  # explicit for readers; set below when it plays
    for key, value in (("from", caller), ("to", normalize_any(params.To)), ("direction", params.Direction),
                       ("forwarded_from", normalize_any(params.ForwardedFrom)),
                       ("caller_name", caller_name or params.CallerName)):
        if value and not doc.get(key):
            patch[key] = value
    history = list(doc.get("route_history") or [])
    last = history[-1] if history else None
    if not last or (last.get("route"), last.get("reason")) != (route.action, route.reason):
        history.append({"route": route.action, "reason": route.reason, "detail": route.detail, "at": now})
    patch.update(route=route.action, route_reason=route.reason, route_detail=route.detail, route_history=history)
    if route.forward_to:
        patch["forward_to"] = list(route.forward_to)
    if route.action in ("ai", "voicemail"):
        patch["answered_by"] = route.action
    if play_notice:
        patch.update(recording_notice_played=True, recording_notice=notice_text(tenant), recording_notice_at=now)
    if retell_call_id:
        patch["retell_call_id"] = retell_call_id
    if with_status and params.CallStatus:
        try:
            patch.update(status_patch(doc, params.CallStatus, now))
        except ValueError:
            pass  # a status we do not track (the status callback is the authority anyway)
    return patch


class CallAlreadyOver(Exception):
    """The call record says the call ended: nothing more is written for it."""


def _over(doc: dict[str, Any] | None) -> bool:
    return (doc or {}).get("status") in TERMINAL


def record_route(ports: Ports, tenant: Tenant, params: CallParams, route: Route, now: dt.datetime, *,
                 caller: str | None = None, caller_name: str | None = None, retell_call_id: str | None = None,
                 ivr: dict[str, Any] | None = None, snapshot: dict[str, Any] | None | bool = False) -> bool:
    """Write the route on the call record. Returns whether the recording notice must be played
    now (the route records and the caller has not heard it yet in this call).

    ``snapshot`` is the call document as just read (``None``: there was none) when the caller
    has one; if it shows no earlier route, the write is one blind create (no document yet) or
    merge of our own keys (no
    status keys, which status callbacks may be writing concurrently) -- one round trip instead of
    a transaction's three, while the caller listens to silence. Otherwise (a later step of the
    call: the notice may have played, the history grows) it is a transaction, which raises
    :class:`CallAlreadyOver` and writes nothing when the record shows the call ended."""
    store = ports.store()
    scope = TenantScope(store, tenant.id)
    path = scope.path(call_path(params.CallSid))

    def index(writer) -> None:
        if retell_call_id:
            writer.set(retell_index_path(retell_call_id),
                       {"tenant_id": tenant.id, "call_sid": params.CallSid, "created_at": now,
                        "expire_at": expire_at(now, tenant.settings.recording_retention_days)})

    blind = snapshot is not False and not (snapshot or {}).get("route_history")
    if blind:
        play = route.record and not (snapshot or {}).get("recording_notice_played")
        patch = route_patch(snapshot, route, now, tenant=tenant, params=params, caller=caller,
                            caller_name=caller_name, play_notice=play, retell_call_id=retell_call_id,
                            with_status=False)
        if ivr is not None:
            patch["ivr"] = ivr
        batch = store.batch()
        if snapshot is None:
            batch.create(path, patch)  # the usual first answer: no document to merge into
        else:
            batch.set(path, patch, merge=True)
        index(batch)
        try:
            batch.commit()
        except AlreadyExists:
            blind = False  # a status callback wrote the call since we read it: merge in a transaction
        play_notice = play
    if not blind:
        def write(tx) -> bool:
            doc = tx.get(path)
            if _over(doc):
                raise CallAlreadyOver(params.CallSid)
            play = route.record and not (doc or {}).get("recording_notice_played")
            patch = route_patch(doc, route, now, tenant=tenant, params=params, caller=caller,
                                caller_name=caller_name, play_notice=play, retell_call_id=retell_call_id)
            if ivr is not None:
                patch["ivr"] = ivr
            tx.set(path, patch, merge=True)
            index(tx)
            return play

        play_notice = store.transaction(write)
    log.info("call routed", extra={"tenant_id": tenant.id, "call_sid": params.CallSid, "route": route.action,
                                   "reason": route.reason})
    return play_notice


# --- rendering ---------------------------------------------------------------------------------

def render(ports: Ports, tenant: Tenant, route: Route, *, play_notice: bool, retell_call_id: str | None = None,
           cache_key: int | None = None) -> str:
    """The TwiML of ``route``. With ``cache_key`` (the tenant document's version token) the TwiML of
    routes without call-specific content is rendered once per instance and settings version."""
    if cache_key is None or route.action == "ai":
        return _render(ports, tenant, route, play_notice=play_notice, retell_call_id=retell_call_id)
    key = (ports.settings.public_base_url, cache_key, route, play_notice)
    return _RENDERED.get(key) or _RENDERED.put(key, _render(ports, tenant, route, play_notice=play_notice))


def _render(ports: Ports, tenant: Tenant, route: Route, *, play_notice: bool, retell_call_id: str | None = None) -> str:
    settings = ports.settings
    voice = tenant.settings.voice
    notice = notice_text(tenant) if play_notice else None
    t = tenant.id
    if route.action == "not_in_service":
        return twiml.not_in_service()
    if route.action == "rejected":
        return twiml.reject()
    if route.action == "ivr":
        return twiml.ivr_menu(voice.ivr, notice=notice, greeting=greeting(tenant),
                              action=twiml.url(settings, "voice_ivr", t=t, attempt=1))
    if route.action == "ai":
        assert retell_call_id, "the AI route needs a registered Retell call"
        return twiml.ai_agent(retell_call_id, notice=notice,
                              dial_action=twiml.url(settings, "voice_ivr", t=t, step="dial", kind="ai"))
    if route.action == "forward":
        return twiml.forward(route.forward_to, notice=notice, record=route.record,
                             timeout=voice.forward_timeout_seconds,
                             dial_action=twiml.url(settings, "voice_ivr", t=t, step="dial",
                                                   kind="transfer" if route.reason == TRANSFER_REASON else "forward"),
                             recording_callback=twiml.url(settings, "voice_status", t=t),
                             answered_callback=twiml.url(settings, "voice_status", t=t, leg="forward"))
    return twiml.voicemail(voice.voicemail_prompt or DEFAULT_VOICEMAIL_PROMPT, notice=notice,
                           max_length=voice.voicemail_max_seconds,
                           record_action=twiml.url(settings, "voice_ivr", t=t, step="recorded"),
                           recording_callback=twiml.url(settings, "voice_status", t=t))


# --- voice_answer --------------------------------------------------------------------------------

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
    if _over(existing):
        return _replayed(tenant.id, params)
    caller_name = (loaded.contact or {}).get("name") or None

    forced = query.get("route")
    if forced is not None and forced != "ai":
        raise BadRequest("unknown route parameter")
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
        return _replayed(tenant.id, params)
    return render(ports, tenant, route, play_notice=play, retell_call_id=retell_call_id,
                  cache_key=loaded.version)


# --- the Fallback URL ----------------------------------------------------------------------------

UNAVAILABLE = ("We're sorry, we can't take your call right now. Please try again in a few minutes. "
               "Goodbye.")
# How long the fallback gives the ordinary answer (a store that hangs rather than fails would
# otherwise outlast Twilio's 15 s wait for the Fallback URL too).
FALLBACK_BUDGET_SECONDS = 5.0
_fallback_pool = None


def _within_budget(fn, seconds: float):
    """``fn()`` on a worker thread, given up on (TimeoutError) after ``seconds``; it may still
    finish in the background (the answer is idempotent)."""
    import concurrent.futures
    import contextvars

    global _fallback_pool
    if _fallback_pool is None:
        _fallback_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="z3-fallback")
    context = contextvars.copy_context()
    return _fallback_pool.submit(context.run, fn).result(timeout=seconds)


def answer_fallback(ports: Ports, params: CallParams, query: Mapping[str, str]) -> str:
    """Twilio's Fallback URL of a number (``voice_answer?fallback=1``): Twilio calls it when the
    Voice URL failed (a 503 while the store is down, a timeout). The caller must not hear Twilio's
    "application error": try the ordinary answer once more (the outage may be over); if that
    fails too or takes longer than :data:`FALLBACK_BUDGET_SECONDS`, take a voicemail with the
    settings this instance last read for the number (the recording callback names the business,
    so the message is ingested once the store is back; blocked callers and closed accounts are
    still turned away), or, for a number this instance has not seen, apologise and hang up.
    Raises only for a malformed request (400)."""
    ordinary = {k: v for k, v in query.items() if k != "fallback"}
    try:
        return _within_budget(lambda: answer_call(ports, params, ordinary), FALLBACK_BUDGET_SECONDS)
    except BadRequest:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line before Twilio's error message (incl. timeout)
        log.error("answering on the fallback path without the store",
                  extra={"call_sid": params.CallSid, "reason": type(exc).__name__})
    from shared.phone import try_normalize_us

    tenant_id = tenant_param(query) or _OWNERS.get(try_normalize_us(params.To))
    hit: _Parsed | None = _PARSED.get(tenant_id) if tenant_id else None
    if hit is None:
        return twiml.hangup(UNAVAILABLE)
    tenant = hit.tenant
    route = decide(tenant, tenant.settings.voice, Caller(normalize_any(params.From), None), ports.clock().now())
    if route.action == "rejected":
        return twiml.reject()
    if route.action == "not_in_service":
        return twiml.not_in_service()
    voice = tenant.settings.voice
    return twiml.voicemail(voice.voicemail_prompt or DEFAULT_VOICEMAIL_PROMPT, notice=notice_text(tenant),
                           max_length=voice.voicemail_max_seconds,
                           record_action=twiml.url(ports.settings, "voice_ivr", t=tenant.id, step="recorded",
                                                   fallback=1),
                           recording_callback=twiml.url(ports.settings, "voice_status", t=tenant.id))


def connect_ai(ports: Ports, tenant: Tenant, params: CallParams, route: Route, *, caller: str | None,
               caller_name: str | None, existing: dict[str, Any] | None, now: dt.datetime) -> tuple[Route, str | None]:
    """Register the call with Retell within the budget; on failure the caller gets voicemail and
    the route says why (``ai_unavailable``)."""
    from shared.providers import retell

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


# --- voice_ivr ---------------------------------------------------------------------------------

def continue_call(ports: Ports, form: Mapping[str, str], query: Mapping[str, str]) -> str:
    """Gather, Dial and Record actions: ``step=menu`` (default), ``dial`` or ``recorded``."""
    step = query.get("step", "menu")
    if step not in ("menu", "dial", "recorded"):
        raise BadRequest("unknown step")
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
        return _replayed(tenant.id, params)


def _replayed(tenant_id: str, params: CallParams) -> str:
    log.warning("request for a call that already ended: hung up, nothing written (a replay?)",
                extra={"tenant_id": tenant_id, "call_sid": params.CallSid})
    return twiml.hangup()


def _note_voicemail(ports: Ports, params: CallParams, form: Mapping[str, str], query: Mapping[str, str]) -> None:
    """The Record action: note on the call whether a message was recorded, so the call summary
    knows whether to wait for the recording (``shared.voice.post_call``). Best effort: the caller
    has left the message and must hear the thanks, not an error, so a store outage is only
    logged (the summary then waits for the recording up to its bound instead)."""
    from shared.ports import StoreUnavailable

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
    from shared.voice.calls import TERMINAL
    from shared.voice.status import publish_if_over

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
        tx.set(path, patch, merge=True)
        return {**doc, **patch}

    record = store.transaction(write)
    if record.get("status") in TERMINAL:
        publish_if_over(ports, scope, params.CallSid, record["status"], record, now)


def _menu_choice(ports: Ports, tenant: Tenant, params: GatherParams, query: Mapping[str, str], now: dt.datetime) -> str:
    try:
        attempt = int(query.get("attempt", "1"))
    except ValueError:
        raise BadRequest("attempt must be a number") from None
    if not 1 <= attempt <= 10:
        raise BadRequest("attempt out of range")
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
        raise BadRequest("unknown dial kind")
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
