"""The backstop for AI calls whose analysis never arrives.

An AI call is completed by Retell's events (``call_ended`` and ``call_analyzed``, see
``agent_webhook``). If Retell's analysis never comes (an outage past its retries, an analysis
that failed), the business would never get its call summary. So when Twilio says an AI call
ended, ``voice_status`` schedules one ``call_finalize`` task (named after the call: repeats are
deduplicated) :data:`FINALIZE_AFTER` later. By then the call is normally complete and the task
does nothing. Otherwise it first asks Retell for the call (:func:`recover_from_retell`: the
webhooks may be what was lost); if that does not complete it, it publishes ``call.completed``
itself (source ``twilio``) and marks the record ``completed_without_analysis``, so the summary
goes out with what is known.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from shared.logging import get_logger
from shared.models.base import Message
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.voice.calls import call_path

log = get_logger("z3.voice.finalize")

FINALIZE_AFTER = dt.timedelta(minutes=15)
TARGET = "call_finalize"


class FinalizeRequest(Message):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    call_sid: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")


def schedule_finalize(ports: Ports, tenant_id: str, call_sid: str, now: dt.datetime) -> bool:
    request = FinalizeRequest(tenant_id=tenant_id, call_sid=call_sid)
    return ports.tasks().enqueue(TARGET, request.to_bytes(), name=f"finalize-{call_sid}",
                                 schedule_time=now + FINALIZE_AFTER).created


def finalize_call(ports: Ports, request: FinalizeRequest) -> str:
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
    if record.get("retell_call_id") and recover_from_retell(ports, record["retell_call_id"]):
        return "recovered from Retell"
    now = ports.clock().now()
    publish_call_completed(ports, CallCompleted(tenant_id=request.tenant_id, call_sid=request.call_sid,
                                                retell_call_id=record.get("retell_call_id"), source="twilio",
                                                completed_at=record.get("ended_at") or now))
    scope.update(call_path(request.call_sid), {"completed_event_published_at": now,
                                               "completed_without_analysis": True})
    log.warning("call completed without Retell's analysis", extra={"tenant_id": request.tenant_id,
                                                                  "call_sid": request.call_sid})
    return "published"


def recover_from_retell(ports: Ports, retell_call_id: str) -> bool:
    """Ask Retell for the call (get-call): its webhooks may have been lost while the call itself
    ended and was analysed. What Retell has is applied exactly as the webhooks would have applied
    it (``call_ended`` then ``call_analyzed``, deduplicated with any that did arrive): transcript,
    analysis, cost, and a copy of the recording from a freshly signed URL. True when that
    completed the call (``call.completed`` published, source ``retell``). Retell unreachable or
    not knowing the call: False, and the caller publishes what is known (the summary must not
    wait on Retell forever)."""
    from shared.providers import retell as provider
    from shared.voice.agent_payloads import RetellEvent
    from shared.voice.agent_webhook import handle_event

    try:
        data = provider.client(ports.settings).call.retrieve(retell_call_id, timeout=10.0).to_dict()
    except Exception as exc:  # noqa: BLE001 - NotFound, API errors, timeouts: fall back to what we know
        log.warning("could not ask Retell for the call", extra={"retell_call_id": retell_call_id,
                                                                "reason": type(exc).__name__})
        return False
    if data.get("call_status") not in ("ended", "error"):
        return False
    events = ["call_ended"] + (["call_analyzed"] if data.get("call_analysis") else [])
    published = False
    for event in events:
        published = handle_event(ports, RetellEvent.model_validate({"event": event, "call": data})).published or published
    log.info("recovered the call from Retell", extra={"retell_call_id": retell_call_id, "events": events,
                                                      "published": published})
    return published
