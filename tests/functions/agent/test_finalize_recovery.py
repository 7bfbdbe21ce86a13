"""The call_finalize backstop asks Retell for a call whose webhooks never reached us."""

from __future__ import annotations

from tests.functions.local import worker_headers
from tests.functions.voice.support import call_doc, post
from tests.functions.voice.test_voice_status import SEQUENCE, _completed_events, _finalize_tasks, status


def test_the_backstop_recovers_what_retell_has_when_its_webhooks_were_lost(client, settings, business, ports,
                                                                           retell_sandbox, audio_host):
    """Retell's call_ended and call_analyzed never reached us, but Retell has the call: the
    backstop fetches it and the record gets the transcript, the analysis and the recording."""
    from tests.functions.agent.support import analyzed, drain, start_ai_call

    sid, call = start_ai_call(client, settings, retell_sandbox)
    for call_status, seconds, extra in SEQUENCE:
        post(client, settings, "voice_status", status(sid, call_status, seconds, **extra))
    retell_sandbox.end_call(call["call_id"], **analyzed(call, recording_url=audio_host.url_for(call["call_id"])))
    [(_name, body, _due)] = _finalize_tasks(settings)
    response = client("call_finalize").post("/", data=body, headers=worker_headers("call_finalize", body))
    assert response.get_json() == {"result": "recovered from Retell"}
    doc = call_doc(ports, sid)
    assert doc["summary"] == "The caller booked a water heater repair for Thursday at 2 PM."
    assert len(doc["transcript"]) == 3 and "completed_without_analysis" not in doc
    [event] = _completed_events(settings)
    assert (event["call_sid"], event["source"]) == (sid, "retell")
    # the recording, from the URL Retell gave now
    assert ("retell_recording_copy", 200) in drain(settings, client).statuses
    assert [r["source"] for r in call_doc(ports, sid)["recordings"]] == ["retell"]


def test_the_backstop_publishes_what_is_known_when_retell_is_down(client, settings, business, ports,
                                                                  retell_sandbox):
    from tests.functions.agent.support import start_ai_call

    sid, _call = start_ai_call(client, settings, retell_sandbox)
    for call_status, seconds, extra in SEQUENCE:
        post(client, settings, "voice_status", status(sid, call_status, seconds, **extra))
    retell_sandbox.outage("error")
    [(_name, body, _due)] = _finalize_tasks(settings)
    response = client("call_finalize").post("/", data=body, headers=worker_headers("call_finalize", body))
    assert response.get_json() == {"result": "published"}
    assert call_doc(ports, sid)["completed_without_analysis"] is True
