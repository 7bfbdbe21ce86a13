"""Retell's webhook events applied to the call record (``retell_webhook``).

One transaction per event: the dedup record (``claim_in``, key ``retell:{call_id}:{event}``;
a transfer event, which can repeat within one call, adds the event's own ``timestamp``, or the
destination when Retell sends no timestamp) and the merge of the event into the call document
commit together. After it, the
follow-ups run on *every* delivery, duplicates included, because each is idempotent on its own
and a retry after a failed follow-up must still do it:

* the action-log entry (keyed, ``calls.append_action``);
* the Retell recording copy: a Cloud Task to ``retell_recording_copy`` named after the call, so
  the queue de-duplicates it; the worker downloads within seconds (the URL lives ~10 minutes).
  A ``recording_url`` that ``recording_url.check_recording_url`` refuses is not queued: the
  action log says so (keyed, once per call) and the event is still acknowledged;
* ``call.completed``: published when both ``call_ended`` and ``call_analyzed`` have been applied
  and it has not been published yet; ``completed_event_published_at`` is set afterwards. Two
  concurrent duplicate deliveries can both publish: the subscriber is idempotent per call.

Transfer events carry ``transfer_destination`` (``{number, extension}``) and ``transfer_option``
at the top level of the body, beside ``call`` (Retell's webhook overview). Chat events
(``chat_started`` ...) carry no ``call``: acknowledged and ignored, never a 400 that Retell
would retry.

Order independence. Every event merges only the fields it carries (never erases one), with a
rank ``call_started < transfer_* < call_ended < call_analyzed``: a field is written when the
record lacks it or the event's rank is at least the rank of the event that wrote the record's
details. So ``call_analyzed`` then ``call_ended`` ends in the same document as the usual order.
``retell_status`` only moves forward (registered < ongoing < ended/error).

Keys written (the Retell side's keys of the data contract): ``transcript`` (list of
``{role, content}``), ``transcript_text``, ``summary``, ``sentiment``, ``success``,
``extracted_data``, ``in_voicemail``, ``disconnection_reason``, ``cost`` (``{cents,
duration_seconds}``), ``retell_status``, ``retell_events`` (event -> first received at),
``retell_rank``, ``retell_started_at``, ``retell_ended_at``, ``retell_duration_ms``,
``transfer`` (the latest transfer: ``{destination, extension, option, status, <event>_at}``),
``transfer_events`` (every transfer event: ``{event, destination, extension, at}``, in the order
of the events' own timestamps), ``retell_completed_at``,
``completed_event_published_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from shared.idempotency import claim_in
from shared.logging import get_logger
from shared.models.base import Message
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.pii.cards import mask_cards_in
from shared.voice.agent_payloads import (
    KNOWN_EVENTS, TRANSFER_EVENTS, CallRef, RetellCall, RetellEvent, TransferDestination, resolve,
)
from shared.voice.calls import call_path
from shared.voice.listing import with_listing
from shared.voice.recording_url import UnsafeRecordingUrl, check_recording_url

log = get_logger("z3.voice.retell")

RANK = {"call_started": 1, "transfer_started": 2, "transfer_bridged": 2, "transfer_cancelled": 2,
        "transfer_ended": 2, "call_ended": 3, "call_analyzed": 4}
STATUS_RANK = {"registered": 0, "not_connected": 1, "ongoing": 1, "ended": 2, "error": 2}
EVENT_STATUS = {"call_started": "ongoing", "call_ended": "ended", "call_analyzed": "ended"}
TRANSFER_RANK = {"transfer_started": 1, "transfer_cancelled": 2, "transfer_bridged": 2, "transfer_ended": 3}
RECORDING_TARGET = "retell_recording_copy"


class RecordingCopyTask(Message):
    """The task body for ``retell_recording_copy``."""

    tenant_id: str
    call_sid: str
    retell_call_id: str
    recording_url: str
    duration_ms: int | None = None


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | duplicate | ignored | unknown_call
    published: bool = False
    recording_queued: bool = False


def _ms(value: int | None) -> dt.datetime | None:
    if value is None or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)


def _destination(call: RetellCall, transfer: TransferDestination | None) -> TransferDestination | None:
    if transfer is not None and (transfer.number or transfer.extension):
        return transfer
    return TransferDestination(number=call.transfer_destination) if call.transfer_destination else None


def dedup_id(event: str, call: RetellCall, transfer: TransferDestination | None = None,
             timestamp_ms: int | None = None) -> str:
    """Lifecycle events happen once per call; a transfer event can happen again (a second
    transfer in the same call), so it is keyed on its own timestamp as well (on the destination
    when the body has no timestamp)."""
    if event in TRANSFER_EVENTS:
        if timestamp_ms is not None:
            return f"{call.call_id}:{event}:{timestamp_ms}"
        where = _destination(call, transfer)
        raw = f"{where.number or ''};{where.extension or ''}" if where else ""
        return f"{call.call_id}:{event}:{hashlib.sha256(raw.encode()).hexdigest()[:12]}"
    return f"{call.call_id}:{event}"


def details(event: str, call: RetellCall) -> dict[str, Any]:
    """The record fields this event carries (None values left out: an event never erases)."""
    fields: dict[str, Any] = {}
    if call.transcript_object:
        fields["transcript"] = [{"role": u.role, "content": u.content} for u in call.transcript_object]
    if call.transcript:
        fields["transcript_text"] = call.transcript
    elif call.transcript_object:
        fields["transcript_text"] = "\n".join(f"{u.role.capitalize()}: {u.content}" for u in call.transcript_object)
    fields["disconnection_reason"] = call.disconnection_reason
    fields["retell_started_at"] = _ms(call.start_timestamp)
    fields["retell_ended_at"] = _ms(call.end_timestamp)
    fields["retell_duration_ms"] = call.duration_ms
    if call.call_cost is not None and call.call_cost.combined_cost is not None:
        fields["cost"] = {"cents": call.call_cost.combined_cost,
                          "duration_seconds": call.call_cost.total_duration_seconds}
    analysis = call.call_analysis
    if analysis is not None:
        fields["summary"] = analysis.call_summary
        fields["sentiment"] = analysis.user_sentiment
        fields["success"] = analysis.call_successful
        fields["in_voicemail"] = analysis.in_voicemail
        fields["extracted_data"] = analysis.custom_analysis_data
    return mask_cards_in({k: v for k, v in fields.items() if v is not None and v != [] and v != ""})


def event_patch(doc: dict[str, Any] | None, event: str, call: RetellCall, now: dt.datetime, *,
                transfer: TransferDestination | None = None, option: dict[str, Any] | None = None,
                timestamp_ms: int | None = None) -> dict[str, Any]:
    """The keys to merge into the call document for one (new) event. Pure; see the module
    docstring for why any order of the same events gives the same document."""
    doc = doc or {}
    rank = RANK[event]
    stored_rank = int(doc.get("retell_rank") or 0)
    patch: dict[str, Any] = {}
    for key, value in details(event, call).items():
        if doc.get(key) is None or rank >= stored_rank:
            patch[key] = value
    if rank > stored_rank:
        patch["retell_rank"] = rank
    # The event itself says at least this much (call_started: ongoing; ended/analyzed: over),
    # whatever the snapshot's call_status; a reported "error" outranks nothing but stays.
    reported = call.call_status if call.call_status in STATUS_RANK else None
    implied = EVENT_STATUS.get(event)
    status = reported
    if implied and STATUS_RANK[implied] > STATUS_RANK.get(reported or "", -1):
        status = implied
    current = doc.get("retell_status")
    if status and STATUS_RANK.get(status, -1) > STATUS_RANK.get(current, -1):
        patch["retell_status"] = status
    events = dict(doc.get("retell_events") or {})
    events.setdefault(event, now)
    patch["retell_events"] = events
    if event in TRANSFER_EVENTS:
        patch.update(_transfer_patch(doc, event, call, now, transfer, option, timestamp_ms))
    if "call_ended" in events and "call_analyzed" in events and not doc.get("retell_completed_at"):
        patch["retell_completed_at"] = now
    if not doc:
        patch["created_at"] = now
    return patch


def _transfer_patch(doc: dict[str, Any], event: str, call: RetellCall, now: dt.datetime,
                    transfer: TransferDestination | None, option: dict[str, Any] | None,
                    timestamp_ms: int | None) -> dict[str, Any]:
    """``transfer_events`` gains this event; ``transfer`` describes the latest transfer. A
    ``transfer_started`` later than the summary's start begins a new transfer (a second one in
    the same call); otherwise the status moves forward only (started < cancelled/bridged < ended)."""
    at = _ms(timestamp_ms) or now
    where = _destination(call, transfer)
    entry = {"event": event, "destination": where.number if where else None,
             "extension": where.extension if where else None, "at": at}
    events = sorted([*(doc.get("transfer_events") or []), entry], key=lambda e: (e["at"], TRANSFER_RANK[e["event"]], e["event"]))
    summary = dict(doc.get("transfer") or {})
    started = summary.get("started_at")
    if event == "transfer_started" and started is not None and at > started:
        summary = {}  # a new transfer
    name = event.removeprefix("transfer_")
    summary.setdefault(f"{name}_at", at)
    if where is not None:
        if where.number:
            summary["destination"] = where.number
        if where.extension:
            summary["extension"] = where.extension
    if option:
        summary["option"] = option
    if TRANSFER_RANK[event] >= TRANSFER_RANK.get(f"transfer_{summary.get('status')}", 0):
        summary["status"] = name
    return {"transfer": summary, "transfer_events": events}


def action_text(event: str, call: RetellCall) -> str | None:
    """The readable action-log line for an event (None: nothing worth a line)."""
    if event == "call_started":
        return "The AI receptionist answered the call"
    if event == "call_ended":
        reason = (call.disconnection_reason or "").replace("_", " ")
        length = f" after {_duration(call.duration_ms)}" if call.duration_ms else ""
        return f"The call with the AI receptionist ended{length}" + (f" ({reason})" if reason else "")
    if event == "call_analyzed" and call.call_analysis is not None:
        a = call.call_analysis
        bits = []
        if a.call_successful is not None:
            bits.append("successful" if a.call_successful else "not successful")
        if a.user_sentiment:
            bits.append(f"caller sentiment {a.user_sentiment.lower()}")
        return "Call analysed" + (f": {', '.join(bits)}" if bits else "")
    if event in TRANSFER_EVENTS:
        verb = {"transfer_started": "started transferring the call", "transfer_bridged": "connected the caller",
                "transfer_cancelled": "could not complete the transfer", "transfer_ended": "transfer leg ended"}[event]
        return f"AI {verb}" if event != "transfer_ended" else "The transferred call ended"
    return None


def _duration(ms: int) -> str:
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def handle_event(ports: Ports, body: RetellEvent) -> Outcome:
    """Apply one webhook event. Raises StoreUnavailable (-> 503, Retell retries)."""
    event, call = body.event, body.call
    if event not in KNOWN_EVENTS or call is None:
        log.info("ignored retell event", extra={"event": event, "retell_call_id": call.call_id if call else None})
        return Outcome("ignored")
    key = dedup_id(event, call, body.transfer_destination, body.timestamp)
    store = ports.store()
    ref = resolve(store, call)
    if ref is None:
        # Acknowledge: a call we never registered (a dashboard test call, a deleted tenant) will
        # never become known, and a non-2xx only makes Retell retry to no avail.
        log.warning("retell event for an unknown call", extra={"event": event, "retell_call_id": call.call_id})
        return Outcome("unknown_call")
    now = ports.clock().now()
    scope = TenantScope(store, ref.tenant_id)

    full_path = scope.path(call_path(ref.call_sid))

    # The raw store's transaction: the dedup record is global (ids only); the call document is
    # addressed through the tenant scope's path builder.
    def apply(tx) -> tuple[bool, dict[str, Any]]:
        doc = tx.get(full_path)
        if not claim_in(tx, "retell", key, now=now):
            return False, doc or {}
        patch = event_patch(doc, event, call, now, transfer=body.transfer_destination, option=body.transfer_option,
                            timestamp_ms=body.timestamp)
        if doc is None:
            patch["call_sid"] = ref.call_sid
        patch = with_listing(doc, patch)
        tx.set(full_path, patch, merge=True)
        return True, {**(doc or {}), **patch}

    applied, doc = store.transaction(apply)
    queued = _follow_ups(ports, scope, ref, event, call, doc, now, key)
    published = _publish_if_complete(ports, scope, ref, call, doc, now)
    log.info("retell event", extra={"event": event, "retell_call_id": call.call_id, "call_sid": ref.call_sid,
                                     "applied": applied, "published": published})
    return Outcome("applied" if applied else "duplicate", published=published, recording_queued=queued)


def _follow_ups(ports: Ports, scope: TenantScope, ref: CallRef, event: str, call: RetellCall, doc: dict[str, Any],
                now: dt.datetime, key: str) -> bool:
    from shared.voice.calls import append_action

    text = action_text(event, call)
    if text:
        append_action(scope, ref.call_sid, text, now, key=f"retell:{key}")
    recording_sid = f"retell-{call.call_id}"
    stored = any(r.get("recording_sid") == recording_sid for r in doc.get("recordings") or [])
    if call.recording_url and not stored:
        try:
            check_recording_url(ports.settings, call.recording_url)
        except UnsafeRecordingUrl as exc:
            log.warning("retell recording URL refused: not queued", extra={
                "retell_call_id": call.call_id, "call_sid": ref.call_sid, "reason": exc.reason})
            append_action(scope, ref.call_sid, f"The AI call's recording was not copied: {exc.reason}", now,
                          key=f"retell:{call.call_id}:recording-refused")
            return False
        task = RecordingCopyTask(tenant_id=ref.tenant_id, call_sid=ref.call_sid, retell_call_id=call.call_id,
                                 recording_url=call.recording_url, duration_ms=call.duration_ms)
        ports.tasks().enqueue(RECORDING_TARGET, task.to_bytes(), name=f"retell-recording-{call.call_id}")
        return True
    return False


def _publish_if_complete(ports: Ports, scope: TenantScope, ref: CallRef, call: RetellCall, doc: dict[str, Any],
                         now: dt.datetime) -> bool:
    from shared.voice.events import CallCompleted, publish_call_completed

    if not doc.get("retell_completed_at") or doc.get("completed_event_published_at"):
        return False
    publish_call_completed(ports, CallCompleted(tenant_id=ref.tenant_id, call_sid=ref.call_sid,
                                                retell_call_id=call.call_id, source="retell",
                                                completed_at=doc["retell_completed_at"]))
    scope.update(call_path(ref.call_sid), {"completed_event_published_at": now})
    return True
