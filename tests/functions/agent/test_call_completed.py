"""call_completed (the call.completed subscriber) through functions-framework, with CloudEvents
as Pub/Sub push delivers them; and the whole post-call chain from Retell's last event."""

from __future__ import annotations

import json

import pytest

from shared.events import PUBSUB_EVENT_TYPE, push_body
from shared.voice.events import CallCompleted
from tests.functions.local import worker_headers
from tests.functions.agent.support import analyzed, call_doc, drain, ended, event, start_ai_call, tasks, tool
from tests.functions.voice.support import CALLER, TENANT, DownStore


def deliver(client, message: CallCompleted | bytes, message_id: str = "m-1"):
    data = message if isinstance(message, bytes) else message.to_bytes()
    body = push_body(project="z3-local", topic="call.completed", subscription="z3-call-completed--call_completed",
                     data=data, attributes={"z3_topic": "call.completed"}, message_id=message_id,
                     publish_time="2026-03-02T17:05:00.000Z")
    headers = {"Content-Type": "application/json", "ce-id": message_id, "ce-specversion": "1.0",
               "ce-type": PUBSUB_EVENT_TYPE,
               "ce-source": "//pubsub.googleapis.com/projects/z3-local/topics/z3-call-completed",
               "ce-time": "2026-03-02T17:05:00.000Z"}
    raw = json.dumps(body).encode()
    return client("call_completed").post("/", data=raw, headers=worker_headers("call_completed", raw, headers))


@pytest.fixture
def finished_call(client, settings, ports, business, retell_sandbox):
    sid, call = start_ai_call(client, settings, retell_sandbox)
    tool(client, settings, call, "book_appointment", start="2026-03-05T14:00:00-07:00", name="Maria Lopez")
    event(client, settings, "call_ended", ended(call))
    event(client, settings, "call_analyzed", analyzed(call))
    doc = call_doc(ports, sid)
    return sid, call, CallCompleted(tenant_id=TENANT, call_sid=sid, retell_call_id=call["call_id"],
                                    completed_at=doc["retell_completed_at"])


def notify_requests(settings):
    from shared.notifications import NotifyRequest

    return [NotifyRequest.from_bytes(body) for _name, body in tasks(settings, "notify")]


def test_the_same_event_twice_queues_one_summary(client, settings, ports, finished_call):
    sid, call, message = finished_call
    assert deliver(client, message, "m-1").status_code == 200
    assert deliver(client, message, "m-2").status_code == 200  # redelivered under another id
    summaries = [r for r in notify_requests(settings) if r.template == "call_summary"]
    assert len(summaries) == 1
    [summary] = summaries
    assert summary.dedup_key == f"call_summary:{sid}"
    context = summary.context
    assert context["summary"] == "The caller booked a water heater repair for Thursday at 2 PM."
    assert context["appointments"] == ["Thursday, March 5 at 2:00 PM Mountain Time"]
    assert (context["caller_name"], context["caller_number"]) == ("Maria Lopez", CALLER)
    assert "AI booked an appointment for March 5 at 2:00 PM MST (Maria Lopez)" in context["actions"]
    assert context["started_local"] == "Monday, March 2 at 10:00 AM Mountain Time"
    assert (context["answered_by"], context["duration_seconds"]) == ("AI receptionist", 125)
    facts = ports.store().get(f"tenants/{TENANT}/call_facts/{sid}")
    assert (facts["outcome"], facts["known_contact"], facts["caller_number"]) == ("appointment_booked", True, CALLER)
    assert facts["duration_seconds"] == 125 and len(facts["appointment_ids"]) == 1
    assert facts["expire_at"] == call_doc(ports, sid)["expire_at"]


def test_unreadable_or_unknown_events_are_acknowledged(client, settings, ports, business):
    assert deliver(client, b"not json").status_code == 200
    unknown = CallCompleted(tenant_id=TENANT, call_sid="CA" + "0" * 32, completed_at="2026-03-02T17:05:00Z")
    assert deliver(client, unknown).status_code == 200
    assert notify_requests(settings) == []


def test_store_down_makes_pubsub_retry(client, settings, ports, finished_call):
    _sid, _call, message = finished_call
    ports.provide(store=DownStore())
    assert deliver(client, message).status_code >= 500


def test_the_whole_chain_from_retells_last_event(client, settings, ports, business, retell_sandbox, audio_host):
    """call_analyzed -> call.completed on the bus -> call_completed -> one call summary queued;
    the recording copied meanwhile."""
    sid, call = start_ai_call(client, settings, retell_sandbox)
    url = audio_host.url_for(call["call_id"])
    event(client, settings, "call_analyzed", analyzed(call, recording_url=url))  # before call_ended
    event(client, settings, "call_ended", ended(call, recording_url=url))
    deliveries = drain(settings, client)
    assert ("call_completed", 200) in deliveries.statuses and ("retell_recording_copy", 200) in deliveries.statuses
    assert [r.template for r in notify_requests(settings)] == ["call_summary"]
    assert ports.store().get(f"tenants/{TENANT}/call_facts/{sid}")["outcome"] == "answered"
    assert call_doc(ports, sid)["recordings"][0]["source"] == "retell"


def test_a_completed_call_reaches_the_crm_once_with_its_booking(client, settings, ports, finished_call):
    from shared.crm import setup
    from shared.crm.fanout import CrmPushTask

    sid, call, message = finished_call
    setup.add_endpoint(ports, TENANT, url="http://127.0.0.1:9/hooks/crm",
                           events=["call.completed", "appointment.booked", "voicemail.left"])
    assert deliver(client, message, "m-1").status_code == 200
    assert deliver(client, message, "m-2").status_code == 200  # redelivered: nothing queued twice
    pushed = [CrmPushTask.from_bytes(body) for _name, body in tasks(settings, "crm_push")]
    events = {t.event_type: json.loads(t.body) for t in pushed}
    assert sorted(t.event_type for t in pushed) == ["appointment.booked", "call.completed"]
    completed, booked = events["call.completed"]["data"], events["appointment.booked"]["data"]
    assert (completed["call_sid"], completed["caller_number"], completed["outcome"]) == (
        sid, CALLER, "appointment_booked")
    assert completed["appointment_ids"] == [booked["appointment_id"]]
    assert (booked["customer_name"], booked["start"]) == ("Maria Lopez", "2026-03-05T21:00:00+00:00")
