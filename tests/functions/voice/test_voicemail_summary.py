"""The business hears about a voicemail once, with the message in it: the call summary of a
voicemail waits (boundedly) for the recording to be stored, through the real functions."""

from __future__ import annotations

import datetime as dt

from shared.voice.events import CallCompleted
from tests.functions.agent.test_call_completed import deliver, notify_requests
from tests.functions.voice.support import (
    OPEN, TENANT, DownStore, call_doc, call_params, follow, post, task_poster, twiml, verbs,
)
from tests.functions.voice.test_voice_status import recording, status, voicemail_call
from tests.functions.voice.test_voicemail_transcription import transcription


def record_action(client, settings, sid, *, recording_sid: str | None, duration: int):
    form = call_params(sid, status="completed", RecordingDuration=str(duration))
    if recording_sid:
        form["RecordingSid"] = recording_sid
    return post(client, settings, "voice_ivr", form, query={"t": TENANT, "step": "recorded"})


def hang_up(client, settings, sid):
    for call_status, seconds, extra in (("in-progress", 1, {}), ("completed", 40, {"CallDuration": "39"})):
        assert post(client, settings, "voice_status", status(sid, call_status, seconds, **extra)).status_code == 200


def completed(sid):
    return CallCompleted(tenant_id=TENANT, call_sid=sid, completed_at=OPEN + dt.timedelta(seconds=40))


def summaries(settings):
    return [r for r in notify_requests(settings) if r.template == "call_summary"]


def test_the_summary_waits_for_the_voicemail_then_says_there_is_one(client, settings, business, ports,
                                                                    twilio_sandbox):
    from shared.adapters.local import build_dispatcher

    sid, callback = voicemail_call(client, settings, ports)
    rec = twilio_sandbox.add_recording(call_sid=sid, duration=14)
    assert verbs(twiml(record_action(client, settings, sid, recording_sid=rec, duration=14))) == ["Say", "Hangup"]
    hang_up(client, settings, sid)

    waiting = deliver(client, completed(sid), "m-1")
    assert waiting.status_code == 503  # Pub/Sub delivers again later
    assert summaries(settings) == []

    assert follow(client, settings, callback, recording(sid, rec, twilio_sandbox)).status_code == 200
    assert build_dispatcher(settings, poster=task_poster(client)).run_once() >= 1  # recording_ingest (+ billing_usage)
    assert call_doc(ports, sid)["recordings"]

    assert deliver(client, completed(sid), "m-2").status_code == 503  # now Twilio's transcription
    assert summaries(settings) == []
    assert follow(client, settings, callback + "&event=transcription",
                  transcription(sid, rec, "Please call me back about Friday.")).status_code == 200
    assert deliver(client, completed(sid), "m-3").status_code == 200
    [summary] = summaries(settings)
    assert summary.context["has_recording"] is True and summary.context["answered_by"] == "Voicemail"
    assert summary.context["voicemail_transcript"] == "Please call me back about Friday."


def test_a_transcription_that_never_comes_holds_the_summary_five_minutes_at_most(client, settings, business, ports,
                                                                                twilio_sandbox, clock):
    from shared.adapters.local import build_dispatcher

    sid, callback = voicemail_call(client, settings, ports)
    rec = twilio_sandbox.add_recording(call_sid=sid, duration=14)
    record_action(client, settings, sid, recording_sid=rec, duration=14)
    hang_up(client, settings, sid)
    follow(client, settings, callback, recording(sid, rec, twilio_sandbox))
    build_dispatcher(settings, poster=task_poster(client)).run_once()
    assert deliver(client, completed(sid), "m-1").status_code == 503
    clock.advance(minutes=6)
    assert deliver(client, completed(sid), "m-2").status_code == 200
    [summary] = summaries(settings)
    assert summary.context["voicemail_transcript"] == ""


def test_a_caller_who_left_no_message_is_summarised_at_once(client, settings, business, ports):
    sid, _callback = voicemail_call(client, settings, ports)
    record_action(client, settings, sid, recording_sid=None, duration=0)
    hang_up(client, settings, sid)
    assert deliver(client, completed(sid)).status_code == 200
    [summary] = summaries(settings)
    assert summary.context["has_recording"] is False
    assert call_doc(ports, sid)["voicemail"] == {"recording_sid": None, "duration": 0}


def test_a_recording_that_never_arrives_delays_the_summary_only_so_long(client, settings, business, ports, clock):
    sid, _callback = voicemail_call(client, settings, ports)
    hang_up(client, settings, sid)  # no Record action seen either (lost, or the store was down)
    assert deliver(client, completed(sid), "m-1").status_code == 503
    clock.current = OPEN + dt.timedelta(minutes=6)
    assert deliver(client, completed(sid), "m-2").status_code == 200
    [summary] = summaries(settings)
    assert summary.context["has_recording"] is False


def test_the_record_action_thanks_the_caller_even_while_the_store_is_down(client, settings, business, ports):
    sid, _callback = voicemail_call(client, settings, ports)
    ports.provide(store=DownStore())
    root = twiml(record_action(client, settings, sid, recording_sid="RE" + "1" * 32, duration=9))
    assert verbs(root) == ["Say", "Hangup"]
