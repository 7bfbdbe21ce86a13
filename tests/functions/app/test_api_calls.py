"""The API twins of the calls, voicemail and overview pages: the calls in progress (``/calls/live``
is not taken for a call sid), a recording link that streams (HTTP Range) for the member who asked
and no one else, deleting a call with its provider copies (503 and nothing deleted when Retell is
down), the voicemail inbox with its texts by role, and the overview's counts in the business's
days. Business B's owner reaches none of A's."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.models.tenant import Role
from shared.tenants import TenantScope
from shared.voice.listing import listing_fields
from tests.functions.app.api_world import AUDIO, bearer
from tests.functions.app.conftest import add_member, sign_in
from tests.functions.local import local_settings


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url)


def put(scope: TenantScope, sid: str, at: dt.datetime, **fields) -> None:
    doc = {"call_sid": sid, "created_at": at, **fields}
    scope.set(f"calls/{sid}", {**doc, **listing_fields(doc)})


def items(reply) -> list[dict]:
    assert reply.status_code == 200, reply.text
    return reply.get_json()["items"]


# --- /calls/live ----------------------------------------------------------------------------------

def test_live_calls_are_not_taken_for_a_call_sid(app_client, ports, seeded):
    a, b = seeded
    scope, now = TenantScope(ports.store(), a.tenant_id), ports.clock().now()
    put(scope, "CAlive", now - dt.timedelta(minutes=2), route="ai", status="in-progress", caller_name="Maria Lopez")
    put(scope, "CAlost", now - dt.timedelta(hours=9), route="ai", status="in-progress")  # a lost callback
    viewer = bearer(a.tokens[(Role.viewer, "read")])
    live = items(app_client.get("/api/v1/calls/live", headers=viewer))
    assert [(c["call_sid"], c["caller_name"], c["status"]) for c in live] == [("CAlive", "Maria Lopez", "in-progress")]
    assert app_client.get("/api/v1/calls/CAlive", headers=viewer).get_json()["call_sid"] == "CAlive"
    assert items(app_client.get("/api/v1/calls/live", headers=bearer(b.tokens[(Role.owner, "read")]))) == []
    assert app_client.get("/api/v1/calls/live").status_code == 401


# --- POST /calls/{sid}/recordings/{rid}/link ------------------------------------------------------

def link_of(app_client, a, role: Role = Role.staff, **headers):
    url = f"/api/v1/calls/{a.call_sid}/recordings/{a.recording_sid}/link"
    return app_client.post(url, headers={**bearer(a.tokens[(role, "read")]), **headers})


def test_a_recording_link_streams_the_audio_with_ranges_for_the_member_who_asked(app_client, ports, seeded):
    a, _b = seeded
    reply = link_of(app_client, a)
    assert reply.status_code == 200, reply.text
    body = reply.get_json()
    assert body["url"].startswith(f"/calls/{a.call_sid}/recordings/{a.recording_sid}/audio?")
    assert "exp=" in body["url"] and "sig=" in body["url"] and a.number not in body["url"]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires == ports.clock().now() + dt.timedelta(minutes=5)
    assert reply.headers.get("Cache-Control") is None or "public" not in reply.headers["Cache-Control"]
    staff = bearer(a.tokens[(Role.staff, "read")])
    whole = app_client.get(body["url"], headers=staff)
    assert whole.status_code == 200 and whole.data == AUDIO and whole.headers["Content-Type"] == "audio/wav"
    part = app_client.get(body["url"], headers={**staff, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == AUDIO[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(AUDIO)}"


def test_a_recording_link_is_useless_to_anyone_else_and_dies_after_five_minutes(app_client, ports, clock, seeded):
    a, b = seeded
    url = link_of(app_client, a).get_json()["url"]
    assert app_client.get(url).status_code == 302  # a copied link alone opens nothing: sign in first
    assert app_client.get(url, headers=bearer(a.tokens[(Role.viewer, "read")])).status_code == 403
    assert app_client.get(url, headers=bearer(b.tokens[(Role.owner, "write")])).status_code == 403  # bound to A
    clock.advance(minutes=6)
    assert app_client.get(url, headers=bearer(a.tokens[(Role.staff, "read")])).status_code == 410


def test_a_recording_link_needs_the_play_permission_and_a_recording_of_this_business(app_client, seeded):
    a, b = seeded
    assert link_of(app_client, a, Role.viewer).status_code == 403
    owner = bearer(a.tokens[(Role.owner, "read")])
    assert app_client.post(f"/api/v1/calls/{a.call_sid}/recordings/REnope/link", headers=owner).status_code == 404
    assert app_client.post(f"/api/v1/calls/CAnope/recordings/{a.recording_sid}/link", headers=owner).status_code == 404
    assert app_client.post(f"/api/v1/calls/{b.call_sid}/recordings/{b.recording_sid}/link",
                           headers=owner).status_code == 404


def test_a_signed_in_member_gets_a_link_with_the_csrf_token_and_plays_it(app_client, ports, business, signed_in):
    scope, now = TenantScope(ports.store(), business.tenant_id), ports.clock().now()
    info = ports.blobs().put(f"tenants/{business.tenant_id}/recordings/CAvm/REvm.wav", AUDIO, content_type="audio/wav")
    put(scope, "CAvm", now, route="voicemail", status="completed", recordings=[
        {"recording_sid": "REvm", "source": "twilio", "blob_path": info.path, "size": info.size, "sha256": info.sha256,
         "stored_at": now}])
    assert app_client.post("/api/v1/calls/CAvm/recordings/REvm/link").status_code == 403  # no CSRF token
    reply = app_client.post("/api/v1/calls/CAvm/recordings/REvm/link", headers={"X-CSRF-Token": signed_in})
    assert reply.status_code == 200, reply.text
    url = reply.get_json()["url"]
    assert app_client.get(url).data == AUDIO
    assert app_client.get(url, headers={"Range": "bytes=0-3"}).status_code == 206
    played = app_client.get("/api/v1/voicemail").get_json()["items"][0]
    assert played["call_sid"] == "CAvm" and played["played"] is True


# --- DELETE /calls/{sid} --------------------------------------------------------------------------

def test_deleting_a_call_removes_it_with_its_recordings_and_is_audited(app_client, ports, seeded, twilio_sandbox):
    a, b = seeded
    scope = TenantScope(ports.store(), a.tenant_id)
    twilio_sandbox.add_call(a.call_sid, to="+13035550111", status="completed")
    call = scope.get(f"calls/{a.call_sid}")
    call["recordings"][0]["recording_sid"] = rec_sid = twilio_sandbox.add_recording(call_sid=a.call_sid, duration=40)
    scope.set(f"calls/{a.call_sid}", call)
    blob = call["recordings"][0]["blob_path"]
    assert app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=bearer(b.tokens[(Role.owner, "write")])
                             ).status_code == 404
    assert app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=bearer(a.tokens[(Role.staff, "write")])
                             ).status_code == 403
    assert scope.get(f"calls/{a.call_sid}") is not None
    admin = bearer(a.tokens[(Role.admin, "write")])
    reply = app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=admin)
    assert reply.status_code == 204 and reply.data == b""
    assert scope.get(f"calls/{a.call_sid}") is None and ports.blobs().stat(blob) is None
    assert rec_sid in twilio_sandbox.deleted_recordings  # Twilio's copy went first
    assert app_client.get(f"/api/v1/calls/{a.call_sid}", headers=admin).status_code == 404
    assert app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=admin).status_code == 404
    log = app_client.get("/api/v1/audit-log", headers=admin).get_json()["items"]
    entry = next(e for e in log if e["action"] == "call.deleted")
    assert entry["target"] == a.call_sid and entry["actor_user_id"] == a.users[Role.admin]
    assert a.number not in repr(entry)
    assert TenantScope(ports.store(), b.tenant_id).get(f"calls/{b.call_sid}") is not None


def test_deleting_while_retell_is_down_is_503_and_deletes_nothing(app_client, ports, seeded, retell_sandbox):
    a, _b = seeded
    scope = TenantScope(ports.store(), a.tenant_id)
    scope.update(f"calls/{a.call_sid}", {"retell_call_id": "call_a"})
    retell_sandbox.calls["call_a"] = {"call_id": "call_a"}
    retell_sandbox.outage("error")
    reply = app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=bearer(a.tokens[(Role.owner, "write")]))
    assert reply.status_code == 503 and reply.get_json()["error"]["code"] == "unavailable"
    call = scope.get(f"calls/{a.call_sid}")
    assert call is not None and ports.blobs().stat(call["recordings"][0]["blob_path"]) is not None
    retell_sandbox.outage("off")
    assert app_client.delete(f"/api/v1/calls/{a.call_sid}", headers=bearer(a.tokens[(Role.owner, "write")])
                             ).status_code == 204
    assert "call_a" in retell_sandbox.deleted


# --- /voicemail -----------------------------------------------------------------------------------

@pytest.fixture
def inbox(ports, seeded):
    a, b = seeded
    scope, now = TenantScope(ports.store(), a.tenant_id), ports.clock().now()
    put(scope, "CAvm1", now - dt.timedelta(minutes=30), route="voicemail", status="completed",
        voicemail_transcript={"sid": "TR1", "status": "completed", "text": "Please call me about my crown.",
                              "recording_sid": "REvm1", "at": now},
        recordings=[{"recording_sid": "REvm1", "source": "twilio", "blob_path": "r/vm1.wav", "size": 1,
                     "sha256": "0" * 64, "stored_at": now}])
    put(scope, "CAai", now - dt.timedelta(hours=1), route="ai", status="completed", played_at=now,
        messages_taken=[{"key": "msg:1", "at": now, "name": "Maria Lopez", "callback_number": "+16025550111",
                         "message": "Needs to move Friday's cleaning", "urgent": True}])
    put(scope, "CAvm2", now - dt.timedelta(hours=2), route="voicemail", status="completed",
        voicemail_transcript={"sid": "TR2", "status": "failed", "text": None, "recording_sid": "REvm2", "at": now},
        recordings=[{"recording_sid": "REvm2", "source": "twilio", "blob_path": "r/vm2.wav", "size": 1,
                     "sha256": "0" * 64, "stored_at": now}])
    put(scope, "CAbooked", now - dt.timedelta(minutes=10), route="ai", status="completed",
        action_log=[{"at": now, "text": "AI booked", "key": "book:ap_1"}])
    return a, b


def test_the_voicemail_inbox_lists_messages_newest_first_with_played_and_their_text(app_client, inbox):
    a, _b = inbox
    found = items(app_client.get("/api/v1/voicemail", headers=bearer(a.tokens[(Role.staff, "read")])))
    assert [(m["call_sid"], m["played"]) for m in found] == [("CAvm1", False), ("CAai", True), ("CAvm2", False)]
    vm1, ai, vm2 = found
    assert (vm1["transcription_status"], vm1["transcription"], vm1["messages_taken"]) == (
        "completed", "Please call me about my crown.", [])
    assert ai["transcription"] is None and ai["played_at"]
    assert [(m["name"], m["callback_number"], m["message"], m["urgent"]) for m in ai["messages_taken"]] == [
        ("Maria Lopez", "+16025550111", "Needs to move Friday's cleaning", True)]
    assert (vm2["transcription_status"], vm2["transcription"]) == ("failed", None)
    assert "blob_path" not in repr(found) and "r/vm1.wav" not in repr(found)


def test_a_viewer_sees_the_inbox_without_the_messages_text(app_client, inbox):
    a, _b = inbox
    found = items(app_client.get("/api/v1/voicemail", headers=bearer(a.tokens[(Role.viewer, "read")])))
    assert [m["call_sid"] for m in found] == ["CAvm1", "CAai", "CAvm2"]
    assert all(m["transcription"] is None and m["messages_taken"] is None for m in found)
    assert found[0]["transcription_status"] == "completed"  # that there is a text, not the text
    assert "crown" not in repr(found) and "Friday" not in repr(found)


def test_the_inbox_pages_and_is_the_business_own(app_client, inbox):
    a, b = inbox
    owner = bearer(a.tokens[(Role.owner, "read")])
    first = app_client.get("/api/v1/voicemail?limit=2", headers=owner).get_json()
    second = app_client.get(f"/api/v1/voicemail?limit=2&cursor={first['next_cursor']}", headers=owner).get_json()
    assert [m["call_sid"] for m in first["items"] + second["items"]] == ["CAvm1", "CAai", "CAvm2"]
    assert second["next_cursor"] is None
    assert items(app_client.get("/api/v1/voicemail", headers=bearer(b.tokens[(Role.owner, "read")]))) == []


# --- /overview ------------------------------------------------------------------------------------

def test_the_overview_counts_the_business_days_and_week(app_client, ports, seeded):
    a, b = seeded
    scope = TenantScope(ports.store(), a.tenant_id)
    # FixedClock: Monday 2026-03-02 15:00 UTC = 10:00 in New York (the default zone). World's call
    # (AI, now) and its text count too.
    now = ports.clock().now()
    put(scope, "CA1", now - dt.timedelta(hours=1), route="ai", status="completed",
        action_log=[{"at": now, "text": "AI booked", "key": "book:a1"}])
    put(scope, "CA2", now - dt.timedelta(hours=2), route="forward", status="no-answer")
    put(scope, "CA3", now - dt.timedelta(days=2), route="voicemail", status="completed",  # Saturday: last week
        recordings=[{"recording_sid": "RE3", "source": "twilio", "blob_path": "r/3.wav", "size": 1, "sha256": "0" * 64,
                     "stored_at": now}])
    put(scope, "CA4", now - dt.timedelta(minutes=2), route="ai", status="in-progress")
    body = app_client.get("/api/v1/overview", headers=bearer(a.tokens[(Role.viewer, "read")])).get_json()
    assert body["time_zone"] == "America/New_York" and body["capped"] is False
    assert body["today"] == {"calls": 4, "booked": 1, "texts": 1,
                             "by_kind": {"ai": 3, "forward": 0, "voicemail": 0, "missed": 1, "other": 0}}
    assert body["week"]["calls"] == 4 and body["week"]["by_kind"]["voicemail"] == 0
    days = {d["day"]: d for d in body["per_day"]}
    assert len(body["per_day"]) == 14 and body["per_day"][-1]["day"] == "2026-03-02"
    assert days["2026-02-28"]["calls"] == 1 and days["2026-02-28"]["by_kind"]["voicemail"] == 1
    assert days["2026-03-02"]["calls"] == 4
    assert [c["call_sid"] for c in body["in_progress"]] == ["CA4"]
    other = app_client.get("/api/v1/overview", headers=bearer(b.tokens[(Role.owner, "read")])).get_json()
    assert other["today"]["calls"] == 1 and other["in_progress"] == []  # B's own seeded call only


def test_overview_and_voicemail_need_a_member(app_client, seeded):
    a, _b = seeded
    for path in ("/api/v1/overview", "/api/v1/voicemail"):
        assert app_client.get(path).status_code == 401


def test_a_viewer_may_read_but_not_delete(app_client, ports, business, signed_in):
    """A cookie session: the viewer's DELETE is refused before anything happens."""
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    app_client.post("/signout", data={"csrf_token": signed_in})
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    from tests.functions.app.conftest import csrf_of

    token = csrf_of(app_client.get("/").text)
    assert app_client.get("/api/v1/overview").status_code == 200
    scope = TenantScope(ports.store(), business.tenant_id)
    put(scope, "CAkept", ports.clock().now(), route="ai", status="completed")
    assert app_client.delete("/api/v1/calls/CAkept", headers={"X-CSRF-Token": token}).status_code == 403
    assert scope.get("calls/CAkept") is not None  # refused before anything happened
