"""retell_webhook through functions-framework, signed with the Retell SDK's own helper."""

from __future__ import annotations

import json

import pytest

from tests.functions.local import worker_headers
from tests.functions.agent.support import (
    TRANSCRIPT, analyzed, call_doc, drain, ended, event, outbox, post_retell, retell_signature, stale_ms,
    start_ai_call, tasks,
)
from tests.functions.voice.support import TENANT, DownStore


@pytest.fixture
def ai_call(client, settings, business, retell_sandbox):
    return start_ai_call(client, settings, retell_sandbox)


# --- signatures and bad input -----------------------------------------------------------------------

def test_forged_stale_or_missing_signatures_are_refused(client, settings, ports, ai_call):
    sid, call = ai_call
    raw = json.dumps({"event": "call_started", "call": call}).encode()
    forged = retell_signature(settings, raw, key="not-our-api-key")
    assert post_retell(client, settings, "retell_webhook", None, raw=raw, signature=forged).status_code == 403
    stale = retell_signature(settings, raw, timestamp_ms=stale_ms(6))
    assert post_retell(client, settings, "retell_webhook", None, raw=raw, signature=stale).status_code == 403
    assert post_retell(client, settings, "retell_webhook", None, raw=raw, signature="").status_code == 403
    # signed, then changed in transit
    good = retell_signature(settings, raw)
    tampered = raw.replace(b"call_started", b"call_ended")
    assert post_retell(client, settings, "retell_webhook", None, raw=tampered, signature=good).status_code == 403
    assert "retell_events" not in call_doc(ports, sid)
    # within the 5-minute tolerance is fine
    recent = retell_signature(settings, raw, timestamp_ms=stale_ms(4))
    assert post_retell(client, settings, "retell_webhook", None, raw=raw, signature=recent).status_code == 200


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"event": "call_started"}',
                                 b'{"event": "call_started", "call": {"agent_id": "a"}}',
                                 b'{"event": "call_started", "call": {"call_id": "../../etc"}}',
                                 b'{"call": {"call_id": "abc"}}'])
def test_malformed_bodies_are_400_with_a_reason(client, settings, business, raw):
    response = post_retell(client, settings, "retell_webhook", None, raw=raw)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_unknown_calls_and_events_are_acknowledged_without_effect(client, settings, ports, ai_call):
    sid, call = ai_call
    stranger = {**call, "call_id": "call_from_the_dashboard", "metadata": {}}
    response = event(client, settings, "call_ended", stranger)
    assert response.status_code == 200 and response.get_json()["result"] == "unknown_call"
    response = event(client, settings, "chat_started", call)
    assert response.status_code == 200 and response.get_json()["result"] == "ignored"
    assert "retell_events" not in call_doc(ports, sid)


def test_the_index_finds_a_call_whose_metadata_was_lost(client, settings, ports, ai_call):
    sid, call = ai_call
    assert event(client, settings, "call_started", {**call, "metadata": None}).get_json()["result"] == "applied"
    assert call_doc(ports, sid)["retell_status"] == "ongoing"


def test_store_down_answers_503_so_retell_retries(client, settings, ports, ai_call):
    _sid, call = ai_call
    ports.provide(store=DownStore())
    assert event(client, settings, "call_ended", ended(call)).status_code == 503


# --- every event updates the record -----------------------------------------------------------------

def test_every_event_updates_the_call_record(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    assert event(client, settings, "call_started", {**call, "call_status": "ongoing"}).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["retell_status"] == "ongoing" and set(doc["retell_events"]) == {"call_started"}
    assert doc["route"] == "ai" and doc["recording_notice_played"] is True  # the Twilio side's keys are kept

    assert event(client, settings, "transfer_started", call, transfer_destination="+13035550111").status_code == 200
    assert call_doc(ports, sid)["transfer"]["status"] == "started"
    assert event(client, settings, "transfer_cancelled", call, transfer_destination="+13035550111").status_code == 200
    doc = call_doc(ports, sid)
    assert doc["transfer"]["status"] == "cancelled" and doc["transfer"]["destination"] == "+13035550111"

    url = audio_host.url_for(call["call_id"])
    assert event(client, settings, "call_ended", ended(call, recording_url=url)).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["retell_status"] == "ended"
    assert doc["transcript"] == [{"role": u["role"], "content": u["content"]} for u in TRANSCRIPT]
    assert doc["transcript_text"].startswith("Agent: Thanks for calling Sunrise Plumbing.")
    assert doc["disconnection_reason"] == "user_hangup"
    assert doc["cost"] == {"cents": 21.4, "duration_seconds": 125}
    assert doc["retell_duration_ms"] == 125_000
    assert "summary" not in doc and outbox(settings, "call.completed") == []  # not complete before the analysis

    assert event(client, settings, "call_analyzed", analyzed(call, recording_url=url)).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["summary"] == "The caller booked a water heater repair for Thursday at 2 PM."
    assert (doc["sentiment"], doc["success"], doc["in_voicemail"]) == ("Positive", True, False)
    assert doc["extracted_data"] == {"service": "water heater", "urgent": True}
    assert set(doc["retell_events"]) == {"call_started", "transfer_started", "transfer_cancelled", "call_ended",
                                         "call_analyzed"}
    texts = [e["text"] for e in doc["action_log"]]
    assert texts == ["The AI receptionist answered the call", "AI started transferring the call",
                     "AI could not complete the transfer",
                     "The call with the AI receptionist ended after 2 min 5 s (user hangup)",
                     "Call analysed: successful, caller sentiment positive"]
    [published] = outbox(settings, "call.completed")
    assert published["message"]["attributes"]["call_sid"] == sid
    assert doc["completed_event_published_at"] is not None


def _normalised(doc):
    """The document without what legitimately differs between two calls (ids, arrival order)."""
    drop = {"call_sid", "retell_call_id", "created_at", "started_at", "expire_at", "status_history", "route_history",
            "recording_notice_at", "action_log"}
    out = {k: v for k, v in doc.items() if k not in drop}
    out["actions"] = sorted(e["text"] for e in doc.get("action_log") or [])
    return out


def test_call_analyzed_before_call_ended_gives_the_same_final_state(client, settings, ports, business,
                                                                    retell_sandbox):
    in_order_sid, in_order = start_ai_call(client, settings, retell_sandbox)
    reversed_sid, reverse = start_ai_call(client, settings, retell_sandbox)
    for name, payload in (("call_started", in_order), ("call_ended", ended(in_order)),
                          ("call_analyzed", analyzed(in_order))):
        assert event(client, settings, name, payload).status_code == 200
    for name, payload in (("call_analyzed", analyzed(reverse)), ("call_started", reverse),
                          ("call_ended", ended(reverse))):
        assert event(client, settings, name, payload).status_code == 200
    a, b = call_doc(ports, in_order_sid), call_doc(ports, reversed_sid)
    assert _normalised(a) == _normalised(b)
    assert a["retell_status"] == b["retell_status"] == "ended"
    assert len(outbox(settings, "call.completed")) == 2  # one per call


def test_duplicates_have_one_effect(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    url = audio_host.url_for(call["call_id"])
    for _ in range(3):
        assert event(client, settings, "call_ended", ended(call, recording_url=url)).status_code == 200
    responses = [event(client, settings, "call_analyzed", analyzed(call, recording_url=url)).get_json()
                 for _ in range(3)]
    assert [r["result"] for r in responses] == ["applied", "duplicate", "duplicate"]
    assert [r["published"] for r in responses] == [True, False, False]
    doc = call_doc(ports, sid)
    assert len(doc["action_log"]) == 2
    assert len(outbox(settings, "call.completed")) == 1  # exactly one call.completed
    assert [name for name, _ in tasks(settings, "retell_recording_copy")] == [f"retell-recording-{call['call_id']}"]


def test_a_publish_that_failed_is_retried_by_retells_next_delivery(client, settings, ports, ai_call, monkeypatch):
    from shared.ports import StoreUnavailable
    from shared.voice import events as voice_events

    sid, call = ai_call
    event(client, settings, "call_ended", ended(call))
    real = voice_events.publish_call_completed

    def down(*args, **kwargs):
        raise StoreUnavailable("bus down (test)")

    monkeypatch.setattr(voice_events, "publish_call_completed", down)
    assert event(client, settings, "call_analyzed", analyzed(call)).status_code == 503
    assert outbox(settings, "call.completed") == []
    monkeypatch.setattr(voice_events, "publish_call_completed", real)
    response = event(client, settings, "call_analyzed", analyzed(call))  # Retell retries the same event
    assert response.status_code == 200 and response.get_json() == {"result": "duplicate", "published": True}
    assert len(outbox(settings, "call.completed")) == 1


# --- the recording copy -----------------------------------------------------------------------------

def test_the_recording_is_copied_to_the_blob_store(client, settings, ports, ai_call, audio_host):
    from tools.sandboxes.audio import silent_wav

    sid, call = ai_call
    audio = silent_wav(2.0)
    audio_host.add(call["call_id"], audio)
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    deliveries = drain(settings, client)
    assert ("retell_recording_copy", 200) in deliveries.statuses
    path = f"tenants/{TENANT}/recordings/{sid}/retell-{call['call_id']}.wav"
    assert ports.blobs().get(path) == audio
    [entry] = call_doc(ports, sid)["recordings"]
    assert (entry["recording_sid"], entry["source"], entry["blob_path"], entry["size"]) == (
        f"retell-{call['call_id']}", "retell", path, len(audio))
    assert entry["duration"] == 125.0
    # an event that still carries the URL after the copy queues nothing more
    event(client, settings, "call_analyzed", analyzed(call, recording_url=audio_host.url_for(call["call_id"])))
    assert len(tasks(settings, "retell_recording_copy")) == 1


def _copy_task(settings, call):
    [(_name, body)] = tasks(settings, "retell_recording_copy")
    return body


def _post_copy(client, body: bytes):
    """The copy task as the local dispatcher delivers it (signed, JSON)."""
    return client("retell_recording_copy").post("/", data=body, headers=worker_headers("retell_recording_copy", body))


def test_the_copy_is_idempotent_and_raises_when_the_download_fails(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    audio_host.fail(call["call_id"], 500)
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    body = _copy_task(settings, call)
    worker = client("retell_recording_copy")
    assert worker.post("/", data=body, headers=worker_headers("retell_recording_copy", body)).status_code == 503
    assert "recordings" not in call_doc(ports, sid)
    audio_host.fail(call["call_id"], None)
    first = worker.post("/", data=body, headers=worker_headers("retell_recording_copy", body))
    again = worker.post("/", data=body, headers=worker_headers("retell_recording_copy", body))
    assert first.status_code == again.status_code == 200
    assert (first.get_json()["downloaded"], again.get_json()["downloaded"]) == (True, False)
    assert len(call_doc(ports, sid)["recordings"]) == 1
    assert audio_host.requests.count(f"/recordings/{call['call_id']}.wav") == 2  # the failed try and the copy


def test_an_expired_url_is_refreshed_from_retell(client, settings, ports, ai_call, audio_host, retell_sandbox):
    sid, call = ai_call
    audio_host.fail("expired", 403)
    retell_sandbox.calls[call["call_id"]]["recording_url"] = audio_host.url_for(call["call_id"])
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for("expired")))
    body = _copy_task(settings, call)
    response = client("retell_recording_copy").post("/", data=body, headers=worker_headers("retell_recording_copy", body))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert call_doc(ports, sid)["recordings"][0]["source"] == "retell"
    assert any(r.path == f"/v2/get-call/{call['call_id']}" for r in retell_sandbox.received)


def test_a_recording_that_is_not_audio_is_refused(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    audio_host.add(call["call_id"], b"<html>login</html>", content_type="text/html")
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    body = _copy_task(settings, call)
    response = client("retell_recording_copy").post("/", data=body, headers=worker_headers("retell_recording_copy", body))
    assert response.status_code >= 500  # retried by the queue; nothing stored
    assert "recordings" not in call_doc(ports, sid)
    assert ports.blobs().list(f"tenants/{TENANT}/recordings/{sid}/") == []


def test_the_copy_answers_503_when_the_store_is_down(client, settings, ports, ai_call, audio_host):
    _sid, call = ai_call
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    body = _copy_task(settings, call)
    ports.provide(store=DownStore())
    assert client("retell_recording_copy").post(
        "/", data=body, headers=worker_headers("retell_recording_copy", body)).status_code == 503


def test_a_bad_copy_task_is_400(client, settings, business):
    body = b'{"tenant_id": 1}'
    assert client("retell_recording_copy").post(
        "/", data=body, headers=worker_headers("retell_recording_copy", body)).status_code == 400


# --- transfer and chat events, as Retell sends them -------------------------------------------------

def _transfer(client, settings, name: str, call, *, number: str, extension: str | None = None,
              timestamp: int | None = None):
    body = {"event": name, "call": {**call, "call_status": "ongoing"},
            "transfer_destination": {"number": number, "extension": extension},
            "transfer_option": {"type": "cold_transfer"}}
    if timestamp is not None:
        body["timestamp"] = timestamp
    return post_retell(client, settings, "retell_webhook", body)


def test_the_transfer_destination_beside_the_call_is_recorded(client, settings, ports, ai_call):
    sid, call = ai_call
    assert _transfer(client, settings, "transfer_started", call, number="+13035550111", extension="204",
                     timestamp=1772470860000).status_code == 200
    assert _transfer(client, settings, "transfer_bridged", call, number="+13035550111", extension="204",
                     timestamp=1772470865000).status_code == 200
    doc = call_doc(ports, sid)
    assert doc["transfer"]["destination"] == "+13035550111" and doc["transfer"]["extension"] == "204"
    assert doc["transfer"]["status"] == "bridged" and doc["transfer"]["option"] == {"type": "cold_transfer"}
    assert [(e["event"], e["destination"]) for e in doc["transfer_events"]] == [
        ("transfer_started", "+13035550111"), ("transfer_bridged", "+13035550111")]


def test_a_second_transfer_in_one_call_is_not_dropped_and_a_retry_is(client, settings, ports, ai_call):
    sid, call = ai_call
    first, second = 1772470860000, 1772470920000
    assert _transfer(client, settings, "transfer_started", call, number="+13035550111",
                     timestamp=first).get_json()["result"] == "applied"
    assert _transfer(client, settings, "transfer_cancelled", call, number="+13035550111",
                     timestamp=first + 20_000).get_json()["result"] == "applied"
    # Retell retries the first delivery: the same event, the same timestamp
    assert _transfer(client, settings, "transfer_started", call, number="+13035550111",
                     timestamp=first).get_json()["result"] == "duplicate"
    # the agent tries the same number again a minute later: a new transfer
    assert _transfer(client, settings, "transfer_started", call, number="+13035550111",
                     timestamp=second).get_json()["result"] == "applied"
    doc = call_doc(ports, sid)
    assert [e["event"] for e in doc["transfer_events"]] == ["transfer_started", "transfer_cancelled",
                                                            "transfer_started"]
    assert doc["transfer"]["status"] == "started"  # the latest transfer is under way again
    texts = [e["text"] for e in doc["action_log"]]
    assert texts.count("AI started transferring the call") == 2


@pytest.mark.parametrize("name", ["chat_started", "chat_ended", "chat_analyzed"])
def test_chat_events_without_a_call_are_acknowledged_and_ignored(client, settings, business, name):
    body = {"event": name, "chat": {"chat_id": "chat_1", "agent_id": "agent_local", "chat_status": "ongoing"}}
    response = post_retell(client, settings, "retell_webhook", body)
    assert response.status_code == 200 and response.get_json()["result"] == "ignored"


# --- the recording URL is Retell's, or it is not fetched ------------------------------------------

@pytest.mark.parametrize("url", [
    "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
    "https://attacker.example/recording.wav",
    "https://dxc03zgurdly9.cloudfront.net.attacker.example/recording.wav",
    "file:///etc/passwd",
])
def test_a_recording_url_off_retells_hosts_is_recorded_not_queued(client, settings, ports, ai_call, url):
    sid, call = ai_call
    response = event(client, settings, "call_ended", ended(call, recording_url=url))
    assert response.status_code == 200
    assert tasks(settings, "retell_recording_copy") == []
    texts = [e["text"] for e in call_doc(ports, sid)["action_log"]]
    assert any(t.startswith("The AI call's recording was not copied") for t in texts)
    assert call_doc(ports, sid)["retell_status"] == "ended"  # the event itself is applied


def test_the_copy_refuses_a_redirect_off_retells_hosts(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    audio_host.redirect(call["call_id"], "http://169.254.169.254/computeMetadata/v1/")
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    response = _post_copy(client, _copy_task(settings, call))
    assert response.status_code == 200 and response.get_json()["result"] == "refused"
    assert "recordings" not in call_doc(ports, sid)
    assert ports.blobs().list(f"tenants/{TENANT}/recordings/{sid}/") == []


def test_the_copy_follows_a_redirect_to_an_allowed_host(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    audio_host.redirect(call["call_id"], "/recordings/moved.wav")
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    response = _post_copy(client, _copy_task(settings, call))
    assert response.status_code == 200 and response.get_json()["result"] == "stored"
    assert audio_host.requests[-2:] == [f"/recordings/{call['call_id']}.wav", "/recordings/moved.wav"]


def test_a_task_with_an_off_host_url_fetches_nothing(client, settings, ports, ai_call, audio_host):
    sid, call = ai_call
    body = json.dumps({"tenant_id": TENANT, "call_sid": sid, "retell_call_id": call["call_id"],
                       "recording_url": "https://attacker.example/recording.wav"}).encode()
    response = _post_copy(client, body)
    assert response.status_code == 200 and response.get_json()["result"] == "refused"
    assert "recordings" not in (call_doc(ports, sid) or {})


def test_an_oversized_recording_is_abandoned(client, settings, ports, ai_call, audio_host, monkeypatch):
    from shared.voice import agent_recording

    sid, call = ai_call
    monkeypatch.setattr(agent_recording, "MAX_BYTES", 1000)
    event(client, settings, "call_ended", ended(call, recording_url=audio_host.url_for(call["call_id"])))
    response = _post_copy(client, _copy_task(settings, call))
    assert response.status_code == 502
    assert ports.blobs().list(f"tenants/{TENANT}/recordings/{sid}/") == []
