"""``call_completed``: the work after a call that must not hold the call up.

For each ``call.completed`` event (at-least-once; everything here is idempotent per call):

1. **Call facts** — ``tenants/{t}/call_facts/{call_sid}``: a small, stable summary that later
   integrations (CRM push, analytics) consume instead of parsing the call record: who called
   (E.164, known contact or not), when, how long, the outcome (``appointment_booked``,
   ``message_taken``, ``transferred``, ``answered``), appointment ids, sentiment and success.
   Written with ``set`` from the record's own data (no "now"), so a redelivery writes the same
   document. It carries the call record's ``expire_at`` (same retention as the call).
2. **CRM webhooks** — ``call.completed``, ``appointment.booked``, ``voicemail.left`` to the
   business's CRM endpoints (``shared.crm.events.after_call``; idempotent per call).
3. **QuickBooks** — for a business that connected QuickBooks Online, one ``quickbooks_sync`` task
   per booked appointment for the caller (Customer) and one at the appointment's end (Invoice);
   named tasks, so a redelivery queues nothing twice (``shared.quickbooks.tasks``).
4. **Call summary email** — ``notify_business(template="call_summary",
   dedup_key="call_summary:{call_sid}")``: the task name de-duplicates, so one email per call.

An event for a business or call that no longer exists (erased meanwhile) is acknowledged with a
log: retrying cannot make it appear.
"""

from __future__ import annotations

import datetime as dt

from typing import Any

from shared.crm import events as crm_events
from shared.logging import get_logger
from shared.ports import Ports
from shared.tenants import TenantScope, UnknownTenant
from shared.voice.events import CallCompleted

log = get_logger("z3.voice.post_call")
FACTS_VERSION = 1


def outcome(record: dict[str, Any], appointment_ids: list[str]) -> str:
    if appointment_ids:
        return "appointment_booked"
    if record.get("messages_taken"):
        return "message_taken"
    if (record.get("transfer") or {}).get("status") in ("bridged", "ended"):
        return "transferred"
    if (record.get("ai_transfer") or {}).get("status") == "answered":
        return "transferred"  # our own transfer of the live Twilio call (shared.voice.transfer)
    return "answered"


def call_facts(event: CallCompleted, record: dict[str, Any], known_contact: bool,
               appointment_ids: list[str]) -> dict[str, Any]:
    return {
        "version": FACTS_VERSION,
        "tenant_id": event.tenant_id,
        "call_sid": event.call_sid,
        "retell_call_id": event.retell_call_id,
        "caller_number": record.get("from"),
        "known_contact": known_contact,
        "started_at": record.get("retell_started_at") or record.get("started_at"),
        "ended_at": record.get("retell_ended_at") or record.get("ended_at"),
        "duration_seconds": round(record["retell_duration_ms"] / 1000) if record.get("retell_duration_ms") else
        record.get("duration"),
        "outcome": outcome(record, appointment_ids),
        "appointment_ids": appointment_ids,
        "sentiment": record.get("sentiment"),
        "success": record.get("success"),
        "disconnection_reason": record.get("disconnection_reason"),
        "completed_at": event.completed_at,
        "expire_at": record.get("expire_at"),
    }


def answered_by(record: dict[str, Any]) -> str:
    """For people: who took the call (the Twilio side may also publish call.completed for calls
    the AI did not answer)."""
    if record.get("retell_call_id") or record.get("route") == "ai":
        return "AI receptionist"
    who = record.get("answered_by") or ""
    return {"voicemail": "Voicemail", "ai": "AI receptionist"}.get(who, who)


def summary_context(tenant, record: dict[str, Any], appointments: list, caller_name: str | None) -> dict[str, Any]:
    """What the ``call_summary`` email template gets (JSON values only)."""
    from shared.scheduling.slots import describe

    zone = tenant.zone
    started = record.get("retell_started_at") or record.get("started_at")
    return {
        "business_name": tenant.name,
        "call_sid": record.get("call_sid"),
        "caller_name": caller_name or record.get("caller_name") or "",
        "caller_number": record.get("from") or "",
        "started_local": describe(started, zone) if started else "",
        "duration_seconds": round(record["retell_duration_ms"] / 1000) if record.get("retell_duration_ms") else
        record.get("duration"),
        "answered_by": answered_by(record),
        "summary": record.get("summary") or "",
        "sentiment": record.get("sentiment") or "",
        "success": record.get("success"),
        "actions": [e.get("text") for e in record.get("action_log") or [] if e.get("text")],
        "appointments": [a.label for a in appointments],
        "messages": [{"name": m.get("name") or "", "callback_number": m.get("callback_number") or "",
                      "message": m.get("message") or "", "urgent": bool(m.get("urgent"))}
                     for m in record.get("messages_taken") or []],
        "has_recording": bool(record.get("recordings")),
        "has_transcript": bool(record.get("transcript")),
        "voicemail_transcript": (record.get("voicemail_transcript") or {}).get("text") or "",
    }


# How long the summary of a voicemail waits for its recording to be stored (Twilio's recording
# callback, then the ingest task, usually take seconds). After that it goes out without it.
RECORDING_WAIT = dt.timedelta(minutes=5)
# And for Twilio's transcription of it (only messages up to 2 minutes are transcribed; it
# usually comes within a minute or two). After that the email goes without the text.
TRANSCRIPT_WAIT = dt.timedelta(minutes=5)


def wait_for_voicemail(record: dict[str, Any], now: dt.datetime) -> None:
    """Raise :class:`shared.worker.RetryLater` while a voicemail's recording, then its
    transcription, is on its way, so the business's one email about the call can say there is a
    message and what it says. No wait when the caller left no message (the Record action said
    so), once :data:`RECORDING_WAIT` (recording) or :data:`TRANSCRIPT_WAIT` (text; only for
    messages Twilio transcribes, up to 2 minutes) has passed since the call ended."""
    from shared.worker import RetryLater

    if record.get("route") != "voicemail":
        return
    voicemail = record.get("voicemail")
    if voicemail is not None and not voicemail.get("recording_sid"):
        return  # the caller hung up without leaving a message
    ended = record.get("ended_at") or record.get("created_at")
    if ended is None:
        return
    if not record.get("recordings"):
        if now - ended < RECORDING_WAIT:
            raise RetryLater("the voicemail's recording is not stored yet")
        return
    transcribable = (voicemail or {}).get("duration") is not None and 0 < (voicemail or {}).get("duration") <= 120
    if transcribable and not record.get("voicemail_transcript") and now - ended < TRANSCRIPT_WAIT:
        raise RetryLater("the voicemail's transcription has not arrived yet")


def handle_call_completed(ports: Ports, event: CallCompleted, message_id: str = "") -> bool:
    """Returns False when there was nothing to do (unknown business or call)."""
    from shared.notifications import notify_business
    from shared.quickbooks.tasks import queue_for_appointments
    from shared.scheduling.appointments import appointments_for_call
    from shared.voice.calls import call_path
    from shared.voice.contacts import contact_name

    scope = TenantScope(ports.store(), event.tenant_id)
    try:
        tenant = scope.tenant()
    except UnknownTenant:
        log.warning("call.completed for an unknown business", extra={"tenant_id": event.tenant_id})
        return False
    record = scope.get(call_path(event.call_sid))
    if record is None:
        log.warning("call.completed for an unknown call", extra={"tenant_id": event.tenant_id,
                                                                 "call_sid": event.call_sid})
        return False
    wait_for_voicemail(record, ports.clock().now())
    booked = [a for a in appointments_for_call(scope, event.call_sid) if a.status == "booked"]
    name = contact_name(scope, record.get("from"))
    facts = call_facts(event, record, name is not None, [a.id for a in booked])
    scope.set(f"call_facts/{event.call_sid}", facts)
    crm_events.after_call(ports, event.tenant_id, facts, record, booked)
    queue_for_appointments(ports, event.tenant_id, booked)  # QuickBooks, when connected
    queued = notify_business(ports, tenant_id=event.tenant_id, template="call_summary",
                             context=summary_context(tenant, record, booked, name),
                             dedup_key=f"call_summary:{event.call_sid}")
    log.info("post-call work done", extra={"tenant_id": event.tenant_id, "call_sid": event.call_sid,
                                           "summary_queued": queued, "message_id": message_id})
    return True
