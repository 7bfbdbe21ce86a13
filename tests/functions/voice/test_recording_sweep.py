"""recording_sweep: recordings a lost callback left at Twilio are found and ingested, through the
real Twilio SDK against the Twilio sandbox (its recordings list and call fetch)."""

from __future__ import annotations

import datetime as dt

from tests.functions.local import worker_headers
from tests.functions.voice.support import NUMBER, OPEN, TENANT, DownStore, call_doc, task_poster
from tests.functions.voice.test_voice_status import queued_tasks, voicemail_call


def sweep(client):
    return client("recording_sweep").post("/", data=b"", headers=worker_headers("recording_sweep", b""))


def left_at_twilio(twilio_sandbox, sid: str, *, minutes_ago: int, to: str = NUMBER) -> str:
    """A recording of call ``sid`` that Twilio holds and whose callback never reached us."""
    twilio_sandbox.add_call(sid, to=to, status="completed")
    return twilio_sandbox.add_recording(call_sid=sid, duration=11, created=OPEN - dt.timedelta(minutes=minutes_ago))


def test_a_recording_whose_callback_was_lost_is_ingested(client, settings, business, ports, twilio_sandbox):
    from shared.adapters.local import build_dispatcher

    sid, _callback = voicemail_call(client, settings, ports)
    rec = left_at_twilio(twilio_sandbox, sid, minutes_ago=30)
    response = sweep(client)
    assert response.status_code == 200
    assert response.get_json()["queued"] == [rec]

    assert build_dispatcher(settings, poster=task_poster(client)).run_once() == 1
    [stored] = call_doc(ports, sid)["recordings"]
    assert (stored["recording_sid"], stored["duration"]) == (rec, 11)
    assert ports.blobs().get(stored["blob_path"])
    assert twilio_sandbox.deleted_recordings == [rec]
    assert sweep(client).get_json()["listed"] == 0  # nothing left behind


def test_sweeping_again_the_same_day_queues_nothing_new(client, settings, business, ports, twilio_sandbox):
    sid, _callback = voicemail_call(client, settings, ports)
    rec = left_at_twilio(twilio_sandbox, sid, minutes_ago=30)
    assert sweep(client).get_json()["queued"] == [rec]
    again = sweep(client).get_json()
    assert (again["queued"], again["already_queued"]) == ([], [rec])
    assert len(queued_tasks(ports)) == 1


def test_a_recent_recording_is_left_to_its_callback(client, settings, business, ports, twilio_sandbox):
    sid, _callback = voicemail_call(client, settings, ports)
    left_at_twilio(twilio_sandbox, sid, minutes_ago=5)
    result = sweep(client).get_json()
    assert (result["too_recent"], result["queued"]) == (1, [])
    assert queued_tasks(ports) == []


def test_a_recording_no_business_can_explain_is_only_reported(client, settings, business, ports, twilio_sandbox):
    from tests.functions.voice.support import new_call_sid

    strangers = left_at_twilio(twilio_sandbox, new_call_sid(), minutes_ago=30, to="+13035550177")  # not our number
    # our number, but made before the business had it, and not a call it has on record
    ports.store().update(f"phone_numbers/{NUMBER}", {"assigned_at": OPEN - dt.timedelta(minutes=10)})
    before_the_business = left_at_twilio(twilio_sandbox, new_call_sid(), minutes_ago=30)
    result = sweep(client).get_json()
    assert sorted(result["unattributed"]) == sorted([strangers, before_the_business])
    assert result["queued"] == [] and queued_tasks(ports) == []
    assert twilio_sandbox.deleted_recordings == []


def test_a_voicemail_taken_while_the_store_was_down_is_still_the_business_s(client, settings, business, ports,
                                                                          twilio_sandbox):
    """The Fallback URL took the message with no call record; its callback was lost too."""
    from tests.functions.voice.support import new_call_sid

    ports.store().update(f"phone_numbers/{NUMBER}", {"assigned_at": OPEN - dt.timedelta(days=30)})
    sid = new_call_sid()
    rec = left_at_twilio(twilio_sandbox, sid, minutes_ago=30)
    assert call_doc(ports, sid) is None
    assert sweep(client).get_json()["queued"] == [rec]
    [(_name, _target, body)] = queued_tasks(ports)
    assert b'"tenant_id":"' + TENANT.encode() in body.replace(b" ", b"")


def test_the_sweep_reads_every_page(settings, business, ports, twilio_sandbox):
    from shared.providers import twilio

    made = {twilio_sandbox.add_recording(created=OPEN - dt.timedelta(minutes=m)) for m in range(20, 25)}
    old = twilio_sandbox.add_recording(created=OPEN - dt.timedelta(days=30))
    listed = twilio.list_recordings(settings, created_after=OPEN - dt.timedelta(days=7), page_size=2)
    assert {r.sid for r in listed} == made and old not in made
    assert len([r for r in twilio_sandbox.requests if r.path.endswith("/Recordings.json")]) == 3


def test_twilio_or_the_store_down_makes_the_scheduler_retry(client, settings, business, ports, twilio_sandbox):
    sid, _callback = voicemail_call(client, settings, ports)
    left_at_twilio(twilio_sandbox, sid, minutes_ago=30)
    twilio_sandbox.fail_next(1, status=503)
    assert sweep(client).status_code == 503
    assert queued_tasks(ports) == []  # nothing half-done: the next run starts over
    real = ports.store()
    ports.provide(store=DownStore())
    assert sweep(client).status_code == 503
    ports.provide(store=real)
    assert queued_tasks(ports) == [] and twilio_sandbox.deleted_recordings == []
