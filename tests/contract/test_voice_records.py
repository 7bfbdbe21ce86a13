"""The call record's writes on both backends: what ``voice_answer``, ``voice_ivr`` and the status
callbacks do to one call document must come out the same on Firestore (emulator) as on SQLite --
the blind first create and its fallback when a callback got there first, order-independent
status, a repeated answer, and the fallback voicemail's late route."""

from __future__ import annotations

import uuid

import pytest

from shared import tenants
from shared.voice.answer import answer_call
from shared.voice.calls import record_route
from shared.voice.ivr import continue_call
from shared.voice.lookup import parse_tenant
from shared.voice.params import CallParams, StatusParams
from shared.voice.routing import Route
from shared.voice.settings import VoiceSettings
from shared.voice.status import call_status

NUMBER = "+13035550100"
CALLER = "+17205550199"
ACCOUNT = "AC" + "0" * 32
ALL_DAY = {d: [{"start": "00:00", "end": "00:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def tenant_id(ports, backend):
    if backend.name == "gcp":  # the contract session provisions only its own topic
        from shared.adapters.gcp.provision import provision_pubsub

        provision_pubsub(ports.settings, {"call.completed": ()})
    tenant_id = "t_voice_" + uuid.uuid4().hex[:8]
    number = "+1303555" + str(uuid.uuid4().int)[:4]  # numbers are global: one per test
    tenants.create_tenant(ports.store(), tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana",
                          contact_email=f"{tenant_id}@sunrise.example", time_zone="America/Denver", numbers=[number])
    ports.store().update(f"tenants/{tenant_id}", {
        "settings.voice": VoiceSettings(hours=ALL_DAY, open_action="voicemail").to_doc()})
    return tenant_id


def number_of(ports, tenant_id: str) -> str:
    return ports.store().get(f"tenants/{tenant_id}")["numbers"][0]


def params(ports, tenant_id: str, sid: str, status: str = "ringing", **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": ACCOUNT, "From": CALLER, "To": number_of(ports, tenant_id),
            "CallStatus": status, "Direction": "inbound", **extra}


def call(ports, tenant_id: str, sid: str) -> dict:
    return ports.store().get(f"tenants/{tenant_id}/calls/{sid}")


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


def test_the_first_answer_creates_the_record(ports, tenant_id):
    sid = new_sid()
    xml = answer_call(ports, CallParams.parse(params(ports, tenant_id, sid)), {})
    assert "<Record" in xml and "This call may be recorded." in xml
    doc = call(ports, tenant_id, sid)
    assert (doc["route"], doc["route_reason"], doc["recording_notice_played"], doc["from"]) == (
        "voicemail", "business_hours", True, CALLER)
    assert "status" not in doc and doc["expire_at"] > doc["created_at"]


def test_a_status_callback_that_got_there_first_is_kept(ports, tenant_id):
    sid = new_sid()
    call_status(ports, StatusParams.model_validate(params(ports, tenant_id, sid, status="in-progress")), {})
    tenant = parse_tenant(ports.store().get(f"tenants/{tenant_id}"))
    route = Route("voicemail", "business_hours", "open", record=True)
    # the answer read no document (snapshot None) before the callback wrote one: its create fails
    play = record_route(ports, tenant, CallParams.parse(params(ports, tenant_id, sid)), route,
                        ports.clock().now(), caller=CALLER, snapshot=None)
    assert play is True
    doc = call(ports, tenant_id, sid)
    assert doc["status"] == "in-progress" and doc["route"] == "voicemail" and doc["recording_notice_played"] is True


def test_answering_twice_keeps_one_history_entry_and_plays_the_notice_once(ports, tenant_id):
    sid = new_sid()
    form = CallParams.parse(params(ports, tenant_id, sid))
    first = answer_call(ports, form, {})
    second = answer_call(ports, form, {})
    assert "This call may be recorded." in first and "This call may be recorded." not in second
    doc = call(ports, tenant_id, sid)
    assert [h["route"] for h in doc["route_history"]] == ["voicemail"]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0, 2)])
def test_status_callbacks_in_any_order_reach_the_same_record(ports, tenant_id, order):
    sid = new_sid()
    answer_call(ports, CallParams.parse(params(ports, tenant_id, sid)), {})
    steps = [("ringing", "Mon, 02 Mar 2026 17:00:00 +0000", {}),
             ("in-progress", "Mon, 02 Mar 2026 17:00:03 +0000", {}),
             ("completed", "Mon, 02 Mar 2026 17:01:35 +0000", {"CallDuration": "92"})]
    for i in order:
        status, stamp, extra = steps[i]
        call_status(ports, StatusParams.model_validate(params(ports, tenant_id, sid, status=status, Timestamp=stamp,
                                                              **extra)), {})
    doc = call(ports, tenant_id, sid)
    assert (doc["status"], doc["duration"]) == ("completed", 92)
    assert doc["route"] == "voicemail"


def test_a_fallback_voicemail_gets_its_route_when_the_store_is_back(ports, tenant_id):
    sid = new_sid()
    call_status(ports, StatusParams.model_validate(params(ports, tenant_id, sid, status="completed",
                                                          CallDuration="30")), {})
    xml = continue_call(ports, params(ports, tenant_id, sid, status="completed", RecordingSid="RE" + "3" * 32,
                                      RecordingDuration="12"),
                        {"t": tenant_id, "step": "recorded", "fallback": "1"})
    assert "Thank you" in xml
    doc = call(ports, tenant_id, sid)
    assert (doc["route"], doc["route_reason"], doc["voicemail"]["duration"]) == ("voicemail", "store_unavailable", 12)
    assert doc["completed_event_published_at"]  # the business gets the summary


def test_a_replayed_answer_or_gather_for_an_ended_call_writes_nothing(ports, tenant_id):
    sid = new_sid()
    form = params(ports, tenant_id, sid)
    answer_call(ports, CallParams.parse(form), {})
    call_status(ports, StatusParams.model_validate(params(ports, tenant_id, sid, status="completed",
                                                          CallDuration="30")), {})
    before = call(ports, tenant_id, sid)
    assert "<Hangup" in answer_call(ports, CallParams.parse(form), {})
    assert "<Hangup" in answer_call(ports, CallParams.parse(form), {"t": tenant_id, "route": "ai"})
    gather = params(ports, tenant_id, sid, status="in-progress", Digits="1")
    assert "<Hangup" in continue_call(ports, gather, {"t": tenant_id, "step": "menu"})
    assert call(ports, tenant_id, sid) == before


def test_the_status_check_inside_the_write_refuses_an_ended_call(ports, tenant_id):
    from shared.voice.calls import CallAlreadyOver

    sid = new_sid()
    call_status(ports, StatusParams.model_validate(params(ports, tenant_id, sid, status="completed",
                                                          CallDuration="5")), {})
    tenant = parse_tenant(ports.store().get(f"tenants/{tenant_id}"))
    before = call(ports, tenant_id, sid)
    # the answer read no document (snapshot None) before the callback wrote one: the create fails,
    # and the transaction that follows sees the call ended
    with pytest.raises(CallAlreadyOver):
        record_route(ports, tenant, CallParams.parse(params(ports, tenant_id, sid)),
                     Route("voicemail", "business_hours", "open", record=True), ports.clock().now(), snapshot=None)
    assert call(ports, tenant_id, sid) == before
