"""The backstop for AI calls whose analysis never arrives.

An AI call is completed by Retell's events (``call_ended`` and ``call_analyzed``, see
``agent_webhook``). If Retell's analysis never comes (an outage past its retries, an analysis
that failed), the business would never get its call summary. So when Twilio says an AI call
ended, ``voice_status`` schedules one ``call_finalize`` task (named after the call: repeats are
deduplicated) :data:`FINALIZE_AFTER` later. By then the call is normally complete and the task
does nothing; otherwise it publishes ``call.completed`` itself (source ``twilio``) and marks the
record ``completed_without_analysis``, so the summary goes out with what is known.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from shared.logging import get_logger
from shared.models.base import Message
from shared.tenants import TenantScope
from shared.voice.calls import call_path

log = get_logger("z3.voice.finalize")

FINALIZE_AFTER = dt.timedelta(minutes=15)
TARGET = "call_finalize"


class FinalizeRequest(Message):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    call_sid: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")


def schedule_finalize(ports, tenant_id: str, call_sid: str, now: dt.datetime) -> bool:
    request = FinalizeRequest(tenant_id=tenant_id, call_sid=call_sid)
    return ports.tasks().enqueue(TARGET, request.to_bytes(), name=f"finalize-{call_sid}",
                                 schedule_time=now + FINALIZE_AFTER).created


def finalize_call(ports, request: FinalizeRequest) -> str:
    """Publish ``call.completed`` for a call that is over but was never declared complete."""
    from shared.voice.events import CallCompleted, publish_call_completed

    scope = TenantScope(ports.store(), request.tenant_id)
    record = scope.get(call_path(request.call_sid))
    if record is None:
        log.warning("finalize for an unknown call", extra={"tenant_id": request.tenant_id,
                                                          "call_sid": request.call_sid})
        return "unknown call"
    if record.get("completed_event_published_at"):
        return "already complete"
    now = ports.clock().now()
    publish_call_completed(ports, CallCompleted(tenant_id=request.tenant_id, call_sid=request.call_sid,
                                                retell_call_id=record.get("retell_call_id"), source="twilio",
                                                completed_at=record.get("ended_at") or now))
    scope.update(call_path(request.call_sid), {"completed_event_published_at": now,
                                               "completed_without_analysis": True})
    log.warning("call completed without Retell's analysis", extra={"tenant_id": request.tenant_id,
                                                                  "call_sid": request.call_sid})
    return "published"
