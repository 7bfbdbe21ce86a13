"""The call record: one document per call, shared by the Twilio side and the Retell side.

Data contract (both voice capabilities follow it)
=================================================

``tenants/{tenant_id}/calls/{CallSid}`` — Twilio's CallSid is the id (reach it through a
``TenantScope`` and :func:`call_path`).

Written by the Twilio side (``voice_answer``, ``voice_ivr``, ``voice_status``,
``recording_ingest``):

* ``call_sid``, ``from`` (E.164, or null for anonymous callers), ``to`` (E.164),
  ``caller_name`` (the business's contact name, or Twilio's CNAM), ``direction``,
  ``forwarded_from``;
* ``route`` (``ai | ivr | forward | voicemail | rejected``), ``route_reason`` (a stable code,
  see ``shared.voice.routing``), ``route_detail`` (for people), ``route_history`` (list of
  ``{route, reason, detail, at}``), ``forward_to`` (numbers dialled);
* ``status`` and ``status_history`` (list of ``{status, at}``, one entry per status, ordered by
  the call's progress). The status never goes backwards:
  ``queued < ringing < in-progress < terminal`` (terminal = ``completed | busy | no-answer |
  failed | canceled``; the first terminal status seen stays). Duplicated and out-of-order
  callbacks therefore leave the same final state;
* ``started_at``, ``answered_at``, ``ended_at``, ``duration`` (seconds), ``answered_by``
  (``ai``, ``voicemail``, a team member's name or number, or Twilio's AnsweredBy);
* ``recording_notice_played`` (bool) and ``recording_notice`` (the text played) — set when the
  notice was put before the first recording of the call;
* ``ivr``: ``{digits, speech, attempts}``;
* ``recordings``: list of ``{recording_sid, source: twilio|retell, blob_path, size, sha256,
  duration, stored_at}``, one entry per recording_sid (:func:`add_recording`);
* ``ai_transfer`` (when the AI agent moved the call to a person: ``shared.voice.transfer``);
* ``retell_call_id`` (when the AI agent took the call), ``expire_at`` (created_at + the tenant's
  ``recording_retention_days``), ``created_at``.

Written by the Retell side (``retell_webhook``, ``retell_tools``), each on its own keys only,
through ``scope.update`` or transactions: ``transcript``, ``summary``, ``sentiment``,
``success``, ``extracted_data``, ``disconnection_reason``, ``cost``, and ``action_log`` (list
of ``{at, text, key}``, appended with :func:`append_action`). The Retell recording is added with
:func:`add_recording` (``source="retell"``).

Global index ``retell_calls/{retell_call_id}`` -> ``{tenant_id, call_sid}`` (ids only), written
by ``voice_answer`` when it registers the call with Retell; the ``register_phone_call``
metadata carries ``{tenant_id, call_sid}`` too.

Either side may write first (a status callback can beat ``voice_answer``'s write; a Retell
event can beat the Twilio status): every writer merges its keys into whatever is there and
creates the document when it is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field

from shared.logging import get_logger
from shared.models.base import Model
from shared.models.tenant import Tenant
from shared.ports import AlreadyExists, Ports
from shared.tenants import TenantScope
from shared.voice.listing import with_listing
from shared.voice.params import CallParams
from shared.voice.routing import Route
from shared.voice.settings import normalize_any, notice_text

log = get_logger("z3.voice")

CallStatus = Literal["queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"]
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
STATUS_RANK: dict[str, int] = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2,
                               **{s: 3 for s in TERMINAL}}
_SID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class StatusEntry(Model):
    status: str
    at: dt.datetime


class RouteEntry(Model):
    route: str
    reason: str
    detail: str = ""
    at: dt.datetime


class IvrInput(Model):
    digits: str | None = None
    speech: str | None = None
    attempts: int = 0


class RecordingEntry(Model):
    recording_sid: str
    source: Literal["twilio", "retell"]
    blob_path: str
    size: int
    sha256: str
    duration: float | None = None  # seconds
    stored_at: dt.datetime


class ActionEntry(Model):
    at: dt.datetime
    text: str
    key: str | None = None


class CallRecord(Model):
    """The call document as readers see it. Unknown keys are ignored, so either side can add
    keys without breaking the other's reads."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, use_enum_values=True)

    call_sid: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    caller_name: str | None = None
    direction: str | None = None
    forwarded_from: str | None = None
    route: str | None = None
    route_reason: str | None = None
    route_detail: str | None = None
    route_history: list[RouteEntry] = Field(default_factory=list)
    forward_to: list[str] = Field(default_factory=list)
    status: str | None = None
    status_history: list[StatusEntry] = Field(default_factory=list)
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration: float | None = None
    answered_by: str | None = None
    recording_notice_played: bool = False
    recording_notice: str | None = None
    ivr: IvrInput | None = None
    recordings: list[RecordingEntry] = Field(default_factory=list)
    retell_call_id: str | None = None
    expire_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    outcome: str | None = None  # shared.voice.listing
    voicemail_transcript: dict[str, Any] | None = None  # shared.voice.transcription
    # --- the Retell side's keys (typed loosely: that side owns their shape) -----------------
    transcript: Any = None
    summary: str | None = None
    sentiment: str | None = None
    success: bool | None = None
    extracted_data: Any = None
    disconnection_reason: str | None = None
    cost: Any = None
    action_log: list[ActionEntry] = Field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="python", by_alias=True)

    def recording(self, recording_sid: str) -> RecordingEntry | None:
        return next((r for r in self.recordings if r.recording_sid == recording_sid), None)


def call_path(call_sid: str) -> str:
    """The call's path relative to its tenant (``scope.path(call_path(sid))`` for the full one)."""
    if not isinstance(call_sid, str) or not _SID.match(call_sid):
        raise ValueError("invalid call sid")
    return f"calls/{call_sid}"


def retell_index_path(retell_call_id: str) -> str:
    if not isinstance(retell_call_id, str) or not _SID.match(retell_call_id):
        raise ValueError("invalid retell call id")
    return f"retell_calls/{retell_call_id}"


def expire_at(created_at: dt.datetime, recording_retention_days: int | None) -> dt.datetime | None:
    """None when the business keeps recordings forever: no ``expire_at`` timestamp, so neither
    Firestore's TTL nor a sweep's ``expire_at <=`` range (typed: a null never matches) removes it."""
    if recording_retention_days is None:
        return None
    return created_at + dt.timedelta(days=recording_retention_days)


def get_call(scope: TenantScope, call_sid: str) -> CallRecord | None:
    data = scope.get(call_path(call_sid))
    return CallRecord.model_validate(data) if data else None


def require_call(scope: TenantScope, call_sid: str) -> CallRecord:
    """The call, or ``NotFound`` (404) for an unknown, malformed or another business's sid."""
    from shared.accounts.errors import NotFound

    try:
        call = get_call(scope, call_sid)
    except ValueError:
        call = None
    if call is None:
        raise NotFound("There is no such call.")
    return call


# --- status: monotonic, order-independent -----------------------------------------------------

def status_patch(doc: dict[str, Any] | None, status: str, at: dt.datetime) -> dict[str, Any]:
    """The keys to merge into a call document when ``status`` was reported at ``at``.

    One history entry per status (the earliest ``at`` wins), ordered by progress; ``status`` is
    the furthest one; the first terminal status stays. So any order or repetition of the same
    callbacks ends in the same document."""
    doc = doc or {}
    if status not in STATUS_RANK:
        raise ValueError(f"unknown call status {status!r}")
    status = "queued" if status == "initiated" else status
    history: dict[str, dt.datetime] = {}
    for entry in doc.get("status_history") or []:
        history[entry["status"]] = entry["at"]
    current = doc.get("status")
    if status in TERMINAL and any(s in TERMINAL and s != status for s in history):
        return {}  # a different terminal status was seen first: it stays
    if status in history and history[status] <= at:
        return {}  # a duplicate
    history[status] = min(at, history.get(status, at))
    ordered = sorted(history.items(), key=lambda kv: (STATUS_RANK[kv[0]], kv[1]))
    patch: dict[str, Any] = {"status_history": [{"status": s, "at": t} for s, t in ordered]}
    furthest = ordered[-1][0]
    if current != furthest:
        patch["status"] = furthest
    if status == "in-progress":
        patch["answered_at"] = history["in-progress"]
    if status in TERMINAL:
        patch["ended_at"] = history[status]
    return patch


# --- helpers both sides use -------------------------------------------------------------------

def append_action(scope: TenantScope, call_sid: str, text: str, now: dt.datetime, *, key: str | None = None) -> bool:
    """Append a readable entry to the call's ``action_log`` (transactional; creates the call
    document when it does not exist yet). With ``key``, an entry of the same key is not added
    twice (a retried tool call). Returns False for such a duplicate."""
    path = call_path(call_sid)

    def append(tx) -> bool:
        doc = tx.get(path)
        log = list((doc or {}).get("action_log") or [])
        if key is not None and any(e.get("key") == key for e in log):
            return False
        log.append(ActionEntry(at=now, text=text, key=key).to_doc())
        if doc is None:
            tx.set(path, with_listing(doc, {"call_sid": call_sid, "action_log": log, "created_at": now}), merge=True)
        else:
            tx.update(path, with_listing(doc, {"action_log": log}))
        return True

    return scope.transaction(append)


def add_recording(scope: TenantScope, call_sid: str, recording: RecordingEntry, *,
                  expire: dt.datetime | None = None) -> bool:
    """Record a stored recording on the call, once per ``recording_sid`` (transactional;
    creates the call document when missing). Returns False when it was already recorded."""
    path = call_path(call_sid)

    def add(tx) -> bool:
        doc = tx.get(path)
        recordings = list((doc or {}).get("recordings") or [])
        if any(r.get("recording_sid") == recording.recording_sid for r in recordings):
            return False
        recordings.append(recording.to_doc())
        patch: dict[str, Any] = {"recordings": recordings}
        if doc is None:
            patch.update(call_sid=call_sid, created_at=recording.stored_at)
        if expire is not None and not (doc or {}).get("expire_at"):
            patch["expire_at"] = expire
        tx.set(path, with_listing(doc, patch), merge=True)
        return True

    return scope.transaction(add)


# --- the AI agent's transfer (``shared.voice.transfer``) ------------------------------------

def transfer_claimed(doc: dict[str, Any] | None) -> bool:
    """Whether this call has been (or is being) moved off the AI agent by a transfer."""
    held = (doc or {}).get("ai_transfer") or {}
    return held.get("status") in ("redirecting", "dialing", "answered", "no-answer", "busy", "failed")


def transfer_dial_patch(doc: dict[str, Any] | None, dial_status: str | None, duration: int | None,
                        now: dt.datetime) -> dict[str, Any]:
    """The ``ai_transfer`` keys for the transfer ``<Dial>``'s outcome (its action request)."""
    held = dict((doc or {}).get("ai_transfer") or {})
    if held.get("dial_status"):
        return {}  # a repeated action request
    answered = dial_status in ("completed", "answered")
    held.update(dial_status=dial_status or "unknown", status="answered" if answered else (dial_status or "failed"),
                ended_at=now)
    if answered and duration is not None:
        held["talk_seconds"] = duration
    return {"ai_transfer": held}


# --- the route of a call (voice_answer, voice_ivr, the AI transfer) ---------------------------

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


def is_over(doc: dict[str, Any] | None) -> bool:
    """Whether the call record has a terminal status: the call is over."""
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
        patch = with_listing(snapshot, patch)
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
            if is_over(doc):
                raise CallAlreadyOver(params.CallSid)
            play = route.record and not (doc or {}).get("recording_notice_played")
            patch = route_patch(doc, route, now, tenant=tenant, params=params, caller=caller,
                                caller_name=caller_name, play_notice=play, retell_call_id=retell_call_id)
            if ivr is not None:
                patch["ivr"] = ivr
            tx.set(path, with_listing(doc, patch), merge=True)
            index(tx)
            return play

        play_notice = store.transaction(write)
    log.info("call routed", extra={"tenant_id": tenant.id, "call_sid": params.CallSid, "route": route.action,
                                   "reason": route.reason})
    return play_notice
