"""An AI call transferred to a person, end to end: the agent's transfer_call (signed like Retell)
redirects the live Twilio call through the Twilio sandbox (the real SDK's call update), and the
sandbox plays what Twilio does next -- the person's phone answering, the recording, the Dial's
action, the call ending -- as signed callbacks delivered to voice_status / voice_ivr."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest

from tests.functions.agent.support import call_doc, start_ai_call, tasks, tool
from tests.functions.voice.support import CALLER, DANA, NUMBER, TENANT, call_params, post, query_of, twiml, verbs


@pytest.fixture
def ai_call(client, settings, business, retell_sandbox, twilio_sandbox):
    sid, call = start_ai_call(client, settings, retell_sandbox)
    twilio_sandbox.add_call(sid, from_=CALLER, to=NUMBER, status_callback=settings.function_url("voice_status"))
    return sid, call


def deliver(client, callbacks) -> list[tuple[str, int, str]]:
    """Post the sandbox's queued callbacks to the functions under test, as Twilio would."""
    out = []
    for cb in callbacks:
        url = urlparse(cb.url)
        function = url.path.rsplit("/", 1)[-1]
        response = client(function).post("/" + (f"?{url.query}" if url.query else ""), data=cb.params,
                                         headers=cb.headers)
        out.append((function, response.status_code, response.get_data(as_text=True)))
    return out


def test_the_agent_transfers_the_live_call_and_the_person_answers(client, settings, ports, ai_call, twilio_sandbox):
    sid, call = ai_call
    status, answer = tool(client, settings, call, "transfer_call", to="Dana")
    assert status == 200 and answer["transferred"] is True and answer["transfer_to"] == DANA

    # the live call was redirected once, with TwiML that dials Dana
    [(updated_sid, update)] = twilio_sandbox.call_updates
    assert updated_sid == sid
    root = ET.fromstring(update["Twiml"])
    assert verbs(root) == ["Say", "Dial"]  # "please hold": the recording notice was played before the AI answered
    assert root.find("Say").text == "Please hold while we connect your call."
    dial = root.find("Dial")
    assert [n.text for n in dial.findall("Number")] == [DANA]
    assert dial.get("timeout") == "20" and dial.get("record") == "record-from-answer-dual"
    assert query_of(dial.get("action")) == {"kind": "transfer", "step": "dial", "t": TENANT}

    # Retell retries the tool call: same answer, no second redirect
    assert tool(client, settings, call, "transfer_call", to="Dana") == (status, answer)
    assert len(twilio_sandbox.call_updates) == 1

    # Twilio ends the AI's <Dial> and requests its action; the call is not sent to voicemail
    ai_action = post(client, settings, "voice_ivr", call_params(sid, status="in-progress", DialCallStatus="completed"),
                     query={"t": TENANT, "step": "dial", "kind": "ai"})
    assert verbs(twiml(ai_action)) == ["Hangup"]

    results = deliver(client, twilio_sandbox.take_callbacks())
    assert [(f, code) for f, code, _ in results] == [("voice_status", 200), ("voice_status", 200),
                                                     ("voice_ivr", 200), ("voice_status", 200)]
    assert verbs(ET.fromstring(results[2][2])) == ["Hangup"]  # the Dial's action after Dana hung up

    doc = call_doc(ports, sid)
    assert doc["answered_by"] == "Dana Rivera" and doc["status"] == "completed"
    assert [(h["route"], h["reason"]) for h in doc["route_history"]] == [("ai", "business_hours"),
                                                                        ("forward", "ai_transfer")]
    assert doc["forward_to"] == [DANA]
    transfer = doc["ai_transfer"]
    assert (transfer["to"], transfer["name"], transfer["status"], transfer["dial_status"]) == (
        DANA, "Dana Rivera", "answered", "completed")
    assert transfer["redirected_at"] and transfer["answered_at"] and transfer["talk_seconds"] == 45
    texts = [e["text"] for e in doc["action_log"]]
    assert texts.count("AI transferred the caller to Dana Rivera") == 1
    assert [name for name, _ in tasks(settings, "recording_ingest")]  # the transferred leg's recording


def test_nobody_answers_the_transfer_so_the_caller_leaves_a_voicemail(client, settings, ports, ai_call,
                                                                      twilio_sandbox):
    sid, call = ai_call
    twilio_sandbox.dial_outcome(DANA, "no-answer")
    assert tool(client, settings, call, "transfer_call", to="Dana")[1]["transferred"] is True
    [(function, code, body)] = deliver(client, twilio_sandbox.take_callbacks())
    assert (function, code) == ("voice_ivr", 200)
    root = ET.fromstring(body)
    assert verbs(root) == ["Say", "Record", "Say", "Hangup"]  # the prompt, no second recording notice
    assert "may be recorded" not in root.find("Say").text
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"]) == ("voicemail", "transfer_unanswered")
    assert (doc["ai_transfer"]["status"], doc["ai_transfer"]["dial_status"]) == ("no-answer", "no-answer")


def test_a_caller_who_hung_up_is_not_transferred(client, settings, ports, business, retell_sandbox, twilio_sandbox):
    sid, call = start_ai_call(client, settings, retell_sandbox)
    twilio_sandbox.add_call(sid, from_=CALLER, to=NUMBER, status="completed")
    status, answer = tool(client, settings, call, "transfer_call", to="Dana")
    assert status == 200 and answer["error"].startswith("The caller has already hung up")
    assert twilio_sandbox.call_updates == [] and call_doc(ports, sid)["ai_transfer"]["status"] == "caller_gone"


def test_a_twilio_outage_answers_503_and_the_retry_transfers_once(client, settings, ports, ai_call,
                                                                  twilio_sandbox):
    sid, call = ai_call
    twilio_sandbox.fail_next(1, status=503)
    from tests.functions.agent.support import post_retell

    body = {"name": "transfer_call", "args": {"to": "Dana"}, "call": call}
    assert post_retell(client, settings, "retell_tools", body).status_code == 503  # Retell retries
    assert post_retell(client, settings, "retell_tools", body).get_json()["transferred"] is True
    assert len(twilio_sandbox.call_updates) == 1
    assert call_doc(ports, sid)["ai_transfer"]["status"] == "dialing"
