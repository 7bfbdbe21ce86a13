"""What each CRM event says: the facts a CRM needs, built from our records, with ids to match
its own (call sid, appointment id, message sid). One function per source, each a single call
from the service that already handles that moment:

* ``call.completed``, ``appointment.booked`` and ``voicemail.left`` from the post-call work
  (``shared.voice.post_call``, once per call, after the recording of a voicemail has arrived):
  a booking reaches the CRM a few seconds after the call rather than mid-call, which keeps the
  agent's booking tool as fast as it is;
* ``message.received`` when an ordinary inbound text is forwarded to the business
  (``shared.sms.inbound``).

Keys make each event idempotent (``shared.crm.fanout.emit``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.crm.fanout import emit
from shared.ports import Ports


def after_call(ports: Ports, tenant_id: str, facts: dict[str, Any], record: dict[str, Any],
               appointments: list[Any]) -> int:
    when = facts.get("ended_at") or facts.get("completed_at") or ports.clock().now()
    call_sid = facts["call_sid"]
    queued = emit(ports, tenant_id, "call.completed", event_key=call_sid, occurred_at=when, data={
        key: facts.get(key) for key in ("call_sid", "caller_number", "known_contact", "started_at", "ended_at",
                                        "duration_seconds", "outcome", "appointment_ids", "sentiment", "success")})
    for appt in appointments:
        queued += emit(ports, tenant_id, "appointment.booked", event_key=appt.id, occurred_at=appt.created_at or when,
                       data={"appointment_id": appt.id, "call_sid": call_sid, "start": appt.start, "end": appt.end,
                             "time_zone": appt.time_zone, "customer_name": appt.customer_name,
                             "customer_phone": appt.customer_phone, "reason": appt.reason})
    voicemail = record.get("voicemail") or {}
    if voicemail.get("recording_sid"):
        queued += emit(ports, tenant_id, "voicemail.left", event_key=f"{call_sid}:voicemail", occurred_at=when, data={
            "call_sid": call_sid, "caller_number": facts.get("caller_number"), "kind": "recorded",
            "recording_sid": voicemail.get("recording_sid")})
    for message in record.get("messages_taken") or []:
        queued += emit(ports, tenant_id, "voicemail.left", event_key=str(message.get("key")),
                       occurred_at=message.get("at") or when, data={
                           "call_sid": call_sid, "caller_number": facts.get("caller_number"),
                           "kind": "message_taken_by_ai", "name": message.get("name") or "",
                           "callback_number": message.get("callback_number"), "message": message.get("message") or "",
                           "urgent": bool(message.get("urgent"))})
    return queued


def message_received(ports: Ports, tenant_id: str, message: dict[str, Any]) -> int:
    received = message.get("received_at")
    return emit(ports, tenant_id, "message.received", event_key=message["id"],
                occurred_at=received if isinstance(received, dt.datetime) else ports.clock().now(), data={
                    "message_sid": message["id"], "from": message.get("from"), "to": message.get("to"),
                    "body": message.get("body", ""), "media_count": len(message.get("media_urls") or [])})
