"""``voice_status``: call status callbacks and recording status callbacks.

* A call status moves the call record forward (never back: ``shared.voice.calls.status_patch``),
  with Twilio's own ``Timestamp`` as the time, so duplicates and reordering converge.
* A forwarded leg's ``answered`` callback (``leg=forward``, it carries ``ParentCallSid``) says
  which team member took the call; it never touches the parent's status.
* A completed recording enqueues one ``recording_ingest`` task named after the RecordingSid, so a
  repeated callback is deduplicated by the queue (and the ingest itself is idempotent for repeats
  after the queue forgot the name).

When a call the AI agent did not handle ends (voicemail, forward, a caller who hung up in the
menu), ``call.completed`` is published once (source ``twilio``): the business gets its call
summary through the same post-call path as AI calls.

Twilio does not retry status callbacks: a 503 here (store or queue down) loses that one
callback. For call status the next callback carries the state forward; a lost recording callback
leaves the copy at Twilio, where ``recording_sweep`` (``shared.voice.sweep``) finds it and queues
its ingest.
"""

from __future__ import annotations

from typing import Any, Mapping

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.voice.calls import TERMINAL, call_path, expire_at, status_patch
from shared.voice.events import CallCompleted, publish_call_completed
from shared.voice.finalize import schedule_finalize
from shared.voice.listing import with_listing
from shared.voice.lookup import find_tenant, tenant_param
from shared.voice.params import IngestRequest, RecordingParams, StatusParams
from shared.voice.settings import normalize_any
from shared.voice.transcription import transcription_callback

log = get_logger("z3.voice.status")


def handle_callback(ports: Ports, form: Mapping[str, str], query: Mapping[str, str]) -> str:
    """Dispatch on what Twilio sent; returns a short outcome for the response and the logs."""
    if form.get("TranscriptionSid") or query.get("event") == "transcription":
        return transcription_callback(ports, form, query)
    if form.get("RecordingSid"):
        return recording_callback(ports, RecordingParams.parse(form), query)
    return call_status(ports, StatusParams.model_validate(dict(form)), query)


def call_status(ports: Ports, params: StatusParams, query: Mapping[str, str]) -> str:
    store = ports.store()
    now = ports.clock().now()
    tenant_id = find_tenant(store, params, query)
    data = store.get(f"tenants/{tenant_id}") if tenant_id else None
    if data is None:
        log.info("status for a call of no known business", extra={"call_sid": params.CallSid})
        return "ignored: unknown business"
    tenant = Tenant.from_doc(data)
    scope = TenantScope(store, tenant.id)
    at = params.at(now)
    if query.get("leg") == "forward" or params.ParentCallSid:
        return _forward_leg(scope, tenant, params, at)
    if params.CallStatus not in ("queued", "initiated", "ringing", "in-progress", "completed", "busy",
                                 "no-answer", "failed", "canceled"):
        raise InvalidInput("unknown CallStatus")
    path = scope.path(call_path(params.CallSid))

    def write(tx) -> str:
        doc = tx.get(path)
        patch: dict[str, Any] = status_patch(doc, params.CallStatus, at)
        if doc is None:
            patch.update(call_sid=params.CallSid, created_at=now, started_at=at,
                         expire_at=expire_at(now, tenant.settings.recording_retention_days))
            for key, value in (("from", normalize_any(params.From)), ("to", normalize_any(params.To)),
                               ("direction", params.Direction)):
                if value:
                    patch[key] = value
        if params.CallDuration is not None and params.CallStatus == "completed" and not (doc or {}).get("duration"):
            patch["duration"] = params.CallDuration
        if params.AnsweredBy and not (doc or {}).get("answered_by"):
            patch["answered_by"] = params.AnsweredBy
        patch = with_listing(doc, patch)
        if patch:
            tx.set(path, patch, merge=True)
        merged = {**(doc or {}), **patch}
        return merged.get("status") or params.CallStatus, merged

    status, record = store.transaction(write)
    log.info("call status", extra={"tenant_id": tenant.id, "call_sid": params.CallSid, "status": status})
    publish_if_over(ports, scope, params.CallSid, status, record, now)
    return f"status {status}"


def publish_if_over(ports: Ports, scope: TenantScope, call_sid: str, status: str, record: dict[str, Any],
                     now) -> None:
    """A call the AI agent did not handle (voicemail, a forward, a caller who hung up in the menu)
    is over when Twilio says so: publish ``call.completed`` (source ``twilio``) so the business
    gets its call summary. AI calls are completed by Retell's events (``agent_webhook``), with a
    delayed ``call_finalize`` task as the backstop; a rejected (blocked) caller is not worth an
    email. Published before it is marked, so a failure
    in between means a second publish, which the subscriber absorbs (idempotent per call)."""
    if status not in TERMINAL or record.get("completed_event_published_at"):
        return
    if record.get("route") == "ai" or record.get("retell_call_id"):
        schedule_finalize(ports, scope.tenant_id, call_sid, now)  # the backstop if Retell's analysis never comes
        return
    if record.get("route") in (None, "rejected"):
        return
    publish_call_completed(ports, CallCompleted(tenant_id=scope.tenant_id, call_sid=call_sid, source="twilio",
                                                completed_at=record.get("ended_at") or now))
    scope.update(call_path(call_sid), {"completed_event_published_at": now})


def _forward_leg(scope: TenantScope, tenant: Tenant, params: StatusParams, at) -> str:
    """A team member's phone answered a forwarded call: note who, on the parent call."""
    if not params.ParentCallSid:
        raise InvalidInput("a forwarded leg needs ParentCallSid")
    if params.CallStatus != "in-progress":
        return f"leg {params.CallStatus}"
    number = normalize_any(params.To)
    who = (tenant.settings.voice.member_name(number) if number else None) or number or "team"
    path = scope.path(call_path(params.ParentCallSid))

    def write(tx) -> None:
        doc = tx.get(path) or {}
        if doc.get("forward_answered_at") and doc["forward_answered_at"] <= at:
            return  # the first answer (parallel ringing: only one leg can win anyway)
        patch: dict[str, Any] = {"call_sid": params.ParentCallSid, "answered_by": who, "forward_answered_at": at}
        if doc.get("ai_transfer"):  # the person the AI agent transferred the caller to picked up
            patch["ai_transfer"] = {**doc["ai_transfer"], "status": "answered", "answered_at": at}
        tx.set(path, patch, merge=True)

    scope.store.transaction(write)
    log.info("forwarded call answered", extra={"tenant_id": tenant.id, "call_sid": params.ParentCallSid})
    return "leg answered"


def recording_callback(ports: Ports, params: RecordingParams, query: Mapping[str, str]) -> str:
    if params.RecordingStatus != "completed":
        log.info("recording not completed", extra={"call_sid": params.CallSid, "recording_sid": params.RecordingSid,
                                                   "recording_status": params.RecordingStatus,
                                                   "error_code": params.ErrorCode})
        return f"recording {params.RecordingStatus}"
    tenant_id = tenant_param(query)  # recording callbacks carry no To: our URL names the tenant
    if tenant_id is None:
        raise InvalidInput("cannot tell which business the recording belongs to")
    request = IngestRequest(tenant_id=tenant_id, call_sid=params.CallSid, recording_sid=params.RecordingSid,
                            recording_url=params.RecordingUrl,
                            duration=params.RecordingDuration if (params.RecordingDuration or 0) >= 0 else None)
    ref = ports.tasks().enqueue("recording_ingest", request.to_bytes(), name=request.task_name)
    log.info("recording completed", extra={"tenant_id": tenant_id, "call_sid": params.CallSid,
                                          "recording_sid": params.RecordingSid, "queued": ref.created})
    return "recording queued" if ref.created else "recording already queued"
