"""The calls pages through the real app: the list and its posted filters (no personal data in
URLs), a call's detail with its transcript and action log, the signed recording stream with
HTTP Range, who may play it, and deleting a call with its provider copies (the Twilio and
Retell sandboxes, reached by the real SDKs)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest

from shared.models.tenant import Role
from shared.tenants import TenantScope
from shared.voice.listing import listing_fields
from tests.functions.app.conftest import add_member, sign_in
from tests.functions.local import local_settings

AUDIO = b"RIFF" + bytes(range(256)) * 40


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url)


@pytest.fixture
def booked(ports, business):
    """An AI call that booked, with its transcript, action log and stored recording."""
    scope, now = TenantScope(ports.store(), business.tenant_id), ports.clock().now()
    path = f"tenants/{business.tenant_id}/recordings/CAbooked/REbooked.wav"
    info = ports.blobs().put(path, AUDIO, content_type="audio/wav")
    doc = {"call_sid": "CAbooked", "from": "+16025550111", "caller_name": "Maria Lopez", "route": "ai",
           "status": "completed", "duration": 95, "created_at": now - dt.timedelta(hours=1),
           "transcript": [{"role": "agent", "content": "Thanks for calling."},  # Retell's transcript_object
                          {"role": "user", "content": "I'd like a cleaning on Friday."}],
           "summary": "Booked a cleaning.", "retell_call_id": "call_booked",
           "action_log": [{"at": now, "text": "AI booked a cleaning for Fri Mar 6, 9:00 AM", "key": "book:ap_1"}],
           "recordings": [{"recording_sid": "REbooked", "source": "twilio", "blob_path": path, "size": info.size,
                           "sha256": info.sha256, "duration": 95.0, "stored_at": now}]}
    scope.set("calls/CAbooked", {**doc, **listing_fields(doc)})
    other = {"call_sid": "CAmissed", "from": "+16025550122", "route": "forward", "status": "no-answer",
             "created_at": now - dt.timedelta(hours=2)}
    scope.set("calls/CAmissed", {**other, **listing_fields(other)})
    ports.store().set("retell_calls/call_booked", {"tenant_id": business.tenant_id, "call_sid": "CAbooked"})
    return scope


def audio_link(html: str) -> str:
    match = re.search(r'<audio[^>]* src="([^"]+)"', html)
    assert match, "no audio element"
    return unescape(match.group(1)).removeprefix("/app") if unescape(match.group(1)).startswith("/app/") else \
        unescape(match.group(1))


def test_the_list_shows_calls_in_the_business_zone_and_filters_by_posted_caller(app_client, signed_in, booked):
    page = app_client.get("/calls")
    assert page.status_code == 200
    assert "Maria Lopez" in page.text and "Booked" in page.text and "Missed" in page.text
    # The caller filter is posted: the number never appears in a URL of the page
    found = app_client.post("/calls", data={"csrf_token": signed_in, "caller": "(602) 555-0122"})
    assert found.status_code == 200 and "CAmissed" in found.text and "CAbooked" not in found.text
    assert "5550122" not in " ".join(re.findall(r'(?:href|action|src)="([^"]+)"', found.text))
    searched = app_client.post("/calls", data={"csrf_token": signed_in, "q": "cleaning friday"})
    assert "CAbooked" in searched.text and "CAmissed" not in searched.text
    bad = app_client.post("/calls", data={"csrf_token": signed_in, "since": "yesterday"})
    assert bad.status_code == 422 and "not a date" in bad.text


def test_the_detail_shows_transcript_action_log_and_a_playable_recording(app_client, signed_in, booked):
    page = app_client.get("/calls/CAbooked")
    assert page.status_code == 200
    assert "<strong>Caller:</strong> I&#39;d like a cleaning on Friday." in page.text
    assert "<strong>AI receptionist:</strong> Thanks for calling." in page.text and "AI booked a cleaning" in page.text
    link = audio_link(page.text)
    assert "5550111" not in link and "recordings/" in link
    whole = app_client.get(link)
    assert whole.status_code == 200 and whole.data == AUDIO and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Type"] == "audio/wav"
    part = app_client.get(link, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == AUDIO[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(AUDIO)}"
    assert app_client.get(link, headers={"Range": f"bytes={len(AUDIO) + 10}-"}).status_code == 416
    download = app_client.get(link + "&download=1")
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_a_forged_or_expired_link_is_refused(app_client, signed_in, booked, clock):
    link = audio_link(app_client.get("/calls/CAbooked").text)
    assert app_client.get(re.sub(r"sig=[0-9a-f]{4}", "sig=0000", link)).status_code == 403
    assert app_client.get(link.replace("CAbooked", "CAmissed")).status_code == 403
    clock.advance(minutes=6)
    assert app_client.get(link).status_code == 410


def test_a_viewer_sees_the_call_but_cannot_open_the_recording(app_client, ports, business, signed_in, booked):
    owner_link = audio_link(app_client.get("/calls/CAbooked").text)
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    app_client.post("/signout", data={"csrf_token": signed_in})
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    page = app_client.get("/calls/CAbooked")
    assert page.status_code == 200 and "<audio" not in page.text and "cleaning on Friday" not in page.text
    assert "AI booked a cleaning" in page.text  # the action log is not the transcript
    assert app_client.get(owner_link).status_code == 403
    assert "Delete this call" not in page.text


def test_deleting_a_call_removes_ours_and_the_providers_copies_and_is_audited(
        app_client, ports, business, signed_in, booked, twilio_sandbox, retell_sandbox):
    twilio_sandbox.add_call("CAbooked", to="+13035550100", status="completed")
    rec_sid = twilio_sandbox.add_recording(call_sid="CAbooked", duration=95)
    call = booked.get("calls/CAbooked")
    call["recordings"][0]["recording_sid"] = rec_sid
    booked.set("calls/CAbooked", call)
    retell_sandbox.calls["call_booked"] = {"call_id": "call_booked"}
    blob = call["recordings"][0]["blob_path"]
    reply = app_client.post("/calls/CAbooked/delete", data={"csrf_token": signed_in})
    assert reply.status_code == 303
    assert booked.get("calls/CAbooked") is None and ports.blobs().stat(blob) is None
    assert ports.store().get("retell_calls/call_booked") is None
    assert rec_sid in twilio_sandbox.deleted_recordings and "call_booked" in retell_sandbox.deleted
    assert app_client.get("/calls/CAbooked").status_code == 404
    entry = next(d.data for d in ports.store().query(booked.collection("audit")) if d.data["action"] == "call.deleted")
    assert entry["actor_user_id"] == business.owner_id and entry["target"] == "CAbooked"
    assert "+1602" not in repr(entry)  # the caller's number went with the call


def test_a_provider_down_deletes_nothing_and_asks_to_retry(app_client, ports, signed_in, booked, retell_sandbox):
    retell_sandbox.outage("error")
    reply = app_client.post("/calls/CAbooked/delete", data={"csrf_token": signed_in})
    assert reply.status_code == 503
    assert booked.get("calls/CAbooked") is not None


def test_only_managers_may_delete(app_client, ports, business, signed_in, booked):
    add_member(ports, business, "staff@sunrise.example", Role.staff)
    app_client.post("/signout", data={"csrf_token": signed_in})
    sign_in(app_client, "staff@sunrise.example")
    from tests.functions.app.conftest import csrf_of

    token = csrf_of(app_client.get("/").text)
    assert app_client.post("/calls/CAbooked/delete", data={"csrf_token": token}).status_code == 403
    assert booked.get("calls/CAbooked") is not None


def test_the_voicemail_inbox_shows_new_messages_with_their_text_and_marks_them_played(app_client, ports, business,
                                                                                      signed_in, booked):
    now = ports.clock().now()
    path = f"tenants/{business.tenant_id}/recordings/CAvm/REvm.wav"
    info = ports.blobs().put(path, AUDIO, content_type="audio/wav")
    doc = {"call_sid": "CAvm", "from": "+16025550133", "route": "voicemail", "status": "completed",
           "created_at": now - dt.timedelta(minutes=30),
           "voicemail": {"recording_sid": "REvm", "duration": 14},
           "voicemail_transcript": {"sid": "TR1", "status": "completed", "text": "Please call me about my crown.",
                                    "recording_sid": "REvm", "at": now},
           "recordings": [{"recording_sid": "REvm", "source": "twilio", "blob_path": path, "size": info.size,
                           "sha256": info.sha256, "duration": 14.0, "stored_at": now}]}
    booked.set("calls/CAvm", {**doc, **listing_fields(doc)})
    inbox = app_client.get("/voicemail")
    assert inbox.status_code == 200
    assert "Please call me about my crown." in inbox.text and 'class="unplayed"' in inbox.text
    assert "CAbooked" not in inbox.text and "CAmissed" not in inbox.text  # only calls that left a message
    link = audio_link(app_client.get("/calls/CAvm").text)
    assert app_client.get(link).status_code == 200
    assert 'class="unplayed"' not in app_client.get("/voicemail").text
    searched = app_client.post("/calls", data={"csrf_token": signed_in, "q": "crown"})
    assert "CAvm" in searched.text  # the transcription is searchable


def test_the_api_gives_an_ai_calls_transcript_as_text(app_client, ports, business, signed_in, booked):
    detail = app_client.get("/api/v1/calls/CAbooked").get_json()
    assert detail["transcript"] == "Agent: Thanks for calling.\nUser: I'd like a cleaning on Friday."
