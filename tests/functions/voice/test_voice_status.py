"""voice_status: call status and recording callbacks; recording_ingest end to end against the
Twilio sandbox (download, store, sha256, delete Twilio's copy, retries)."""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import random

import pytest

from tests.functions.local import worker_headers
from tests.functions.voice.support import (
    ACCOUNT, DANA, NUMBER, OPEN, TENANT, DownStore, call_doc, call_params, new_call_sid, new_recording_sid, post,
    set_voice, task_poster, twiml,
)


def stamp(seconds: int) -> str:
    """Twilio's RFC 2822 ``Timestamp``, ``seconds`` after the call started ringing."""
    import datetime as dt

    return email.utils.format_datetime(OPEN + dt.timedelta(seconds=seconds))


def status(sid, call_status, seconds, **extra):
    return call_params(sid, status=call_status, Timestamp=stamp(seconds), CallbackSource="call-progress-events", **extra)


SEQUENCE = [("ringing", 0, {}), ("in-progress", 3, {}), ("completed", 95, {"CallDuration": "92"})]


def final_state(doc):
    keys = ("status", "status_history", "answered_at", "ended_at", "duration")
    return {k: doc.get(k) for k in keys}


def test_in_order_callbacks_build_the_status_history(client, settings, business, ports):
    sid = new_call_sid()
    for call_status, seconds, extra in SEQUENCE:
        assert post(client, settings, "voice_status", status(sid, call_status, seconds, **extra)).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["status"] == "completed"
    assert [e["status"] for e in doc["status_history"]] == ["ringing", "in-progress", "completed"]
    assert doc["duration"] == 92
    assert (doc["answered_at"] - doc["status_history"][0]["at"]).total_seconds() == 3
    assert (doc["ended_at"] - doc["answered_at"]).total_seconds() == 92
    assert (doc["from"], doc["to"]) == ("+17205550199", NUMBER)


def test_duplicated_and_out_of_order_callbacks_reach_the_same_final_state(client, settings, business, ports):
    reference = new_call_sid()
    for call_status, seconds, extra in SEQUENCE:
        post(client, settings, "voice_status", status(reference, call_status, seconds, **extra))
    expected = final_state(call_doc(ports, reference))
    rng = random.Random(7)
    orders = list(itertools.permutations(SEQUENCE))
    for order in orders:
        sid = new_call_sid()
        deliveries = list(order) + [rng.choice(SEQUENCE) for _ in range(2)]  # plus duplicates
        rng.shuffle(deliveries)
        for call_status, seconds, extra in deliveries:
            assert post(client, settings, "voice_status", status(sid, call_status, seconds, **extra)).status_code == 200
        assert final_state(call_doc(ports, sid)) == expected, order


def test_a_late_ringing_never_moves_a_completed_call_back(client, settings, business, ports):
    sid = new_call_sid()
    post(client, settings, "voice_status", status(sid, "completed", 60, CallDuration="57"))
    post(client, settings, "voice_status", status(sid, "ringing", 0))
    doc = call_doc(ports, sid)
    assert doc["status"] == "completed"
    assert [e["status"] for e in doc["status_history"]] == ["ringing", "completed"]


def test_status_callbacks_and_voice_answer_meet_in_one_record(client, settings, business, ports):
    sid = new_call_sid()
    post(client, settings, "voice_status", status(sid, "ringing", 0))  # the callback beats the answer
    twiml(post(client, settings, "voice_answer", call_params(sid)))
    post(client, settings, "voice_status", status(sid, "in-progress", 2))
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["status"], doc["caller_name"]) == ("ai", "in-progress", "Maria Lopez")
    assert [e["status"] for e in doc["status_history"]] == ["ringing", "in-progress"]


def test_a_forwarded_leg_answered_says_who_took_the_call(client, settings, business, ports):
    set_voice(ports, open_action="forward")
    sid = new_call_sid()
    dial = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Dial")
    callback = dial.find("Number").get("statusCallback")
    leg = new_call_sid()
    params = call_params(leg, from_="+17205550199", to=DANA, status="in-progress", ParentCallSid=sid,
                         Direction="outbound-dial", Timestamp=stamp(5))
    from tests.functions.voice.support import follow

    assert follow(client, settings, callback, params).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["answered_by"] == "Dana Rivera"
    assert doc.get("status") is None  # the leg's in-progress is not the caller's status
    assert call_doc(ports, leg) is None


def test_malformed_and_forged_callbacks(client, settings, business):
    sid = new_call_sid()
    assert post(client, settings, "voice_status", status(sid, "teleported", 1)).status_code == 400
    bad = call_params(sid, status="completed")
    bad.pop("CallStatus")
    assert post(client, settings, "voice_status", bad).status_code == 400
    assert post(client, settings, "voice_status", status(sid, "ringing", 0), signature="").status_code == 403


def test_store_down_answers_503(client, settings, business, ports):
    ports.provide(store=DownStore())
    assert post(client, settings, "voice_status", status(new_call_sid(), "ringing", 0)).status_code == 503


# --- recordings ------------------------------------------------------------------------------------

def recording(sid, rec, sandbox, status_="completed", duration="14"):
    return {"AccountSid": ACCOUNT, "CallSid": sid, "RecordingSid": rec, "RecordingUrl": sandbox.recording_url(rec),
            "RecordingStatus": status_, "RecordingDuration": duration, "RecordingChannels": "1",
            "RecordingSource": "RecordVerb", "RecordingStartTime": stamp(10)}


def voicemail_call(client, settings, ports):
    """A call answered by voicemail (after hours); returns its sid and the recording callback URL."""
    set_voice(ports, open_action="voicemail")
    sid = new_call_sid()
    record = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Record")
    return sid, record.get("recordingStatusCallback")


def queued_tasks(ports):
    from shared.adapters.local.db import database

    return database(ports.settings.z3_data_dir).read("SELECT name, target, body FROM tasks")


def test_recording_callback_twice_enqueues_one_task_and_stores_one_blob(client, settings, business, ports,
                                                                     twilio_sandbox):
    from shared.adapters.local import build_dispatcher
    from tests.functions.voice.support import follow

    sid, callback = voicemail_call(client, settings, ports)
    audio = b"RIFF" + bytes(range(256)) * 40
    rec = twilio_sandbox.add_recording(call_sid=sid, wav=audio, duration=14)
    for _ in range(2):
        assert follow(client, settings, callback, recording(sid, rec, twilio_sandbox)).status_code == 200
    tasks = queued_tasks(ports)
    assert [(name, target) for name, target, _ in tasks] == [(f"recording-{rec}", "recording_ingest")]

    dispatcher = build_dispatcher(settings, poster=task_poster(client))
    assert dispatcher.run_once() == 1
    path = f"tenants/{TENANT}/recordings/{sid}/{rec}.wav"
    assert ports.blobs().list(f"tenants/{TENANT}/recordings/") == [path]
    assert ports.blobs().get(path) == audio
    [stored] = call_doc(ports, sid)["recordings"]
    assert stored["recording_sid"] == rec and stored["source"] == "twilio" and stored["blob_path"] == path
    assert (stored["size"], stored["sha256"], stored["duration"]) == (len(audio), hashlib.sha256(audio).hexdigest(), 14)
    assert twilio_sandbox.deleted_recordings == [rec] and rec not in twilio_sandbox.recordings
    media = [r for r in twilio_sandbox.requests if r.path.endswith(f"{rec}.wav")]
    assert len(media) == 1 and media[0].auth_ok  # downloaded once, with the account's credentials


def test_recording_not_completed_enqueues_nothing(client, settings, business, ports, twilio_sandbox):
    sid, callback = voicemail_call(client, settings, ports)
    from tests.functions.voice.support import follow

    params = recording(sid, new_recording_sid(), twilio_sandbox, status_="absent", duration="0")
    assert follow(client, settings, callback, params).status_code == 200
    assert queued_tasks(ports) == []


def test_recording_callback_without_a_business_is_refused(client, settings, business, twilio_sandbox):
    params = recording(new_call_sid(), new_recording_sid(), twilio_sandbox)
    response = post(client, settings, "voice_status", params)
    assert response.status_code == 400
    assert "business" in response.get_data(as_text=True)


def ingest(client, body: dict):
    import json

    raw = json.dumps(body).encode()
    return client("recording_ingest").post("/", data=raw, headers=worker_headers("recording_ingest", raw))


def test_ingest_is_idempotent_and_retries_when_twilio_is_down(client, settings, business, ports, twilio_sandbox):
    sid, _ = voicemail_call(client, settings, ports)
    rec = twilio_sandbox.add_recording(call_sid=sid, duration=9)
    body = {"tenant_id": TENANT, "call_sid": sid, "recording_sid": rec, "recording_url": twilio_sandbox.recording_url(rec),
            "duration": 9}
    twilio_sandbox.fail_next(1, status=503)
    down = ingest(client, body)
    assert down.status_code == 503  # Cloud Tasks retries
    assert call_doc(ports, sid).get("recordings") in (None, [])
    assert twilio_sandbox.deleted_recordings == []

    again = ingest(client, body)
    assert again.status_code == 200 and again.get_json()["downloaded"] is True
    repeat = ingest(client, body)  # the queue forgot the name: a duplicate arrives
    assert repeat.status_code == 200 and repeat.get_json()["added"] is False
    assert len(call_doc(ports, sid)["recordings"]) == 1
    assert twilio_sandbox.deleted_recordings == [rec]  # the second delete found it gone: fine


def test_ingest_retry_after_a_failed_delete_reuses_the_stored_blob(client, settings, business, ports, twilio_sandbox,
                                                                   monkeypatch):
    sid, _ = voicemail_call(client, settings, ports)
    rec = twilio_sandbox.add_recording(call_sid=sid)
    body = {"tenant_id": TENANT, "call_sid": sid, "recording_sid": rec, "duration": 2}
    real_handle = twilio_sandbox.handle
    failed = []

    def first_delete_fails(request):
        if request.method == "DELETE" and not failed:
            failed.append(request.path)
            twilio_sandbox.fail_next(1, status=500)
        return real_handle(request)

    monkeypatch.setattr(twilio_sandbox, "handle", first_delete_fails)
    assert ingest(client, body).status_code == 503
    assert len(call_doc(ports, sid)["recordings"]) == 1  # stored and recorded before the delete
    assert rec in twilio_sandbox.recordings
    assert ingest(client, body).status_code == 200
    downloads = [r for r in twilio_sandbox.requests if r.path.endswith(f"{rec}.wav")]
    assert len(downloads) == 1 and twilio_sandbox.deleted_recordings == [rec]


def test_a_media_answer_that_is_not_audio_is_never_stored():
    from shared.voice.ingest import NotAudio, _check_audio

    with pytest.raises(NotAudio):
        _check_audio(b"<html>proxy error</html>", "text/html")
    with pytest.raises(NotAudio):
        _check_audio(b"", "audio/x-wav")
    assert _check_audio(b"RIFF....WAVE", None) == b"RIFF....WAVE"


def test_ingest_bad_body_is_400(client):
    assert ingest(client, {"tenant_id": TENANT}).status_code == 400


def test_ingest_for_a_business_that_is_gone_erases_twilios_copy(client, twilio_sandbox, business):
    rec = twilio_sandbox.add_recording()
    response = ingest(client, {"tenant_id": "t_gone", "call_sid": new_call_sid(), "recording_sid": rec})
    assert response.status_code == 200
    assert twilio_sandbox.deleted_recordings == [rec]


def _completed_events(settings) -> list[dict]:
    import json

    from shared.adapters.local.db import database

    rows = database(settings.z3_data_dir).read("SELECT body FROM outbox WHERE topic = 'call.completed' AND subscriber = 'call_completed'")
    return [json.loads(__import__("base64").b64decode(json.loads(body)["message"]["data"])) for (body,) in rows]


def test_a_voicemail_call_that_ends_is_published_once_for_its_summary(client, settings, business, ports):
    set_voice(ports, open_action="voicemail")
    sid = new_call_sid()
    twiml(post(client, settings, "voice_answer", call_params(sid)))
    for call_status, seconds, extra in SEQUENCE + SEQUENCE[-1:]:  # the final callback twice
        post(client, settings, "voice_status", status(sid, call_status, seconds, **extra))
    [event] = _completed_events(settings)
    assert (event["call_sid"], event["tenant_id"], event["source"]) == (sid, TENANT, "twilio")
    assert call_doc(ports, sid)["completed_event_published_at"]


def test_ai_and_blocked_calls_are_not_published_by_twilio_status(client, settings, business, ports):
    set_voice(ports, blocked_numbers=["+17205550199"])
    blocked = new_call_sid()
    twiml(post(client, settings, "voice_answer", call_params(blocked)))
    post(client, settings, "voice_status", status(blocked, "busy", 1))
    assert call_doc(ports, blocked)["route"] == "rejected"
    set_voice(ports)
    ai = new_call_sid()
    twiml(post(client, settings, "voice_answer", call_params(ai)))
    for call_status, seconds, extra in SEQUENCE:
        post(client, settings, "voice_status", status(ai, call_status, seconds, **extra))
    assert call_doc(ports, ai)["route"] == "ai"
    assert _completed_events(settings) == []  # AI calls are completed by Retell's events


def _finalize_tasks(settings) -> list[tuple[str, bytes, float]]:
    from shared.adapters.local.db import database

    return database(settings.z3_data_dir).read(
        "SELECT name, body, next_attempt_at FROM tasks WHERE target = 'call_finalize'")


def test_an_ai_call_without_analysis_is_completed_by_the_backstop(client, settings, business, ports, clock):
    sid = new_call_sid()
    twiml(post(client, settings, "voice_answer", call_params(sid)))
    for call_status, seconds, extra in SEQUENCE + SEQUENCE[-1:]:
        post(client, settings, "voice_status", status(sid, call_status, seconds, **extra))
    [(name, body, due)] = _finalize_tasks(settings)  # scheduled once, a quarter of an hour later
    assert name == f"finalize-{sid}" and due == pytest.approx(clock.now().timestamp() + 15 * 60)
    assert _completed_events(settings) == []
    # Retell's analysis never came: the task publishes the completion itself, once.
    for _ in range(2):
        response = client("call_finalize").post("/", data=body, headers=worker_headers("call_finalize", body))
        assert response.status_code == 200
    [event] = _completed_events(settings)
    assert (event["call_sid"], event["source"]) == (sid, "twilio")
    assert call_doc(ports, sid)["completed_without_analysis"] is True


def test_the_backstop_does_nothing_when_retell_completed_the_call(client, settings, business, ports):
    sid = new_call_sid()
    twiml(post(client, settings, "voice_answer", call_params(sid)))
    ports.store().update(f"tenants/{TENANT}/calls/{sid}", {"completed_event_published_at": OPEN})
    from shared.voice.finalize import FinalizeRequest

    body = FinalizeRequest(tenant_id=TENANT, call_sid=sid).to_bytes()
    response = client("call_finalize").post("/", data=body, headers=worker_headers("call_finalize", body))
    assert response.get_json() == {"result": "already complete"}
    assert _completed_events(settings) == []

