"""voice_answer through functions-framework, signed like Twilio signs."""

from __future__ import annotations

import pytest

from tests.functions.voice.support import (
    CALLER, CLOSED, DANA, LEE, MENU, NUMBER, SPAMMER, TENANT, DownStore, call_doc, call_params, new_call_sid, post,
    query_of, set_voice, twiml, verbs,
)


def answer(client, settings, params, **kw):
    return post(client, settings, "voice_answer", params, **kw)


# --- signatures and bad input -------------------------------------------------------------------

def test_forged_or_missing_signature_is_refused(client, settings, business, ports, retell_sandbox):
    params = call_params(new_call_sid())
    assert answer(client, settings, params, signature="").status_code == 403
    assert answer(client, settings, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    # signed for other parameters (the caller id was changed in transit)
    from tests.functions.voice.support import sign

    good = sign(settings, settings.function_url("voice_answer"), params)
    assert answer(client, settings, {**params, "From": SPAMMER}, signature=good).status_code == 403
    assert retell_sandbox.received == [] and call_doc(ports, params["CallSid"]) is None


def test_malformed_params_are_400_with_a_reason(client, settings, business):
    missing = call_params(new_call_sid())
    del missing["CallSid"]
    response = answer(client, settings, missing)
    assert response.status_code == 400
    assert "CallSid" in response.get_data(as_text=True)
    bad = call_params("CA-not-a-sid")
    assert answer(client, settings, bad).status_code == 400


def test_unknown_number_gets_a_polite_message_and_a_hang_up(client, settings, business, ports):
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid, to="+13035550199")))
    assert verbs(root) == ["Say", "Hangup"]
    assert "not in service" in root.find("Say").text
    assert ports.store().get(f"tenants/{TENANT}/calls/{sid}") is None


def test_a_number_that_is_not_a_phone_number_is_not_in_service(client, settings, business):
    root = twiml(answer(client, settings, call_params(new_call_sid(), to="client:alice")))
    assert verbs(root) == ["Say", "Hangup"]


def test_store_down_answers_503(client, settings, business, ports):
    ports.provide(store=DownStore())
    assert answer(client, settings, call_params(new_call_sid())).status_code == 503


# --- the Fallback URL ----------------------------------------------------------------------------

def test_fallback_url_takes_a_voicemail_while_the_store_is_down(client, settings, business, ports):
    set_voice(ports, open_action="voicemail", voicemail_prompt="Sunrise here, leave a message.")
    twiml(answer(client, settings, call_params(new_call_sid())))  # this instance has seen the number
    ports.provide(store=DownStore())
    sid = new_call_sid()
    assert answer(client, settings, call_params(sid)).status_code == 503  # the Voice URL asks for the fallback
    root = twiml(answer(client, settings, call_params(sid, ErrorCode="11200"), query={"fallback": "1"}))
    assert verbs(root) == ["Say", "Say", "Record", "Say", "Hangup"]
    assert [s.text for s in root.findall("Say")][:2] == ["This call may be recorded.", "Sunrise here, leave a message."]
    record = root.find("Record")
    assert query_of(record.get("recordingStatusCallback")) == {"t": TENANT}  # ingested once the store is back
    assert query_of(record.get("action")) == {"step": "recorded", "t": TENANT, "fallback": "1"}


@pytest.mark.parametrize("order", ["status first", "record action first"])
def test_a_fallback_voicemail_gets_its_record_and_summary_once_the_store_is_back(client, settings, business, ports,
                                                                                 order):
    from tests.functions.voice.support import follow

    set_voice(ports, open_action="voicemail")
    twiml(answer(client, settings, call_params(new_call_sid())))
    real = ports.store()
    ports.provide(store=DownStore())
    sid = new_call_sid()
    record = twiml(answer(client, settings, call_params(sid), query={"fallback": "1"})).find("Record")
    ports.provide(store=real)  # the outage is over when the caller finishes

    def status_completed():
        done = call_params(sid, status="completed", CallDuration="30")
        assert post(client, settings, "voice_status", done).status_code == 200

    def record_action():
        form = call_params(sid, status="completed", RecordingSid="RE" + "2" * 32, RecordingDuration="12")
        assert verbs(twiml(follow(client, settings, record.get("action"), form))) == ["Say", "Hangup"]

    for step in ((status_completed, record_action) if order == "status first" else (record_action, status_completed)):
        step()
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["recording_notice_played"]) == ("voicemail", "store_unavailable", True)
    assert doc["voicemail"]["recording_sid"] == "RE" + "2" * 32 and doc["status"] == "completed"
    from shared.adapters.local.db import database

    published = database(settings.z3_data_dir).read("SELECT body FROM outbox WHERE topic = 'call.completed' AND subscriber = 'call_completed'")
    assert len({bytes(b) for (b,) in published}) == 1  # one completion (fanned out per subscriber)
    assert doc["completed_event_published_at"]


def test_fallback_url_does_not_wait_for_a_store_that_hangs(client, settings, business, ports, monkeypatch):
    import threading
    import time

    from shared.voice import fallback

    set_voice(ports, open_action="voicemail")
    twiml(answer(client, settings, call_params(new_call_sid())))
    real, release = ports.store(), threading.Event()

    class HangingStore:
        def __getattr__(self, name):
            return getattr(real, name)

        def get_many(self, paths):
            release.wait(10)
            return real.get_many(paths)

    monkeypatch.setattr(fallback, "FALLBACK_BUDGET_SECONDS", 0.3)
    ports.provide(store=HangingStore())
    started = time.monotonic()
    root = twiml(answer(client, settings, call_params(new_call_sid()), query={"fallback": "1"}))
    release.set()
    assert time.monotonic() - started < 3
    assert "Record" in verbs(root)


def test_fallback_url_still_turns_a_blocked_caller_away(client, settings, business, ports):
    twiml(answer(client, settings, call_params(new_call_sid())))
    ports.provide(store=DownStore())
    root = twiml(answer(client, settings, call_params(new_call_sid(), from_=SPAMMER), query={"fallback": "1"}))
    assert verbs(root) == ["Reject"]


def test_fallback_url_for_a_number_this_instance_never_saw_apologises(client, settings, business, ports):
    from shared.voice import lookup

    lookup._OWNERS.data.clear()
    lookup._PARSED.data.clear()
    ports.provide(store=DownStore())
    response = answer(client, settings, call_params(new_call_sid()), query={"fallback": "1"})
    root = twiml(response)
    assert verbs(root) == ["Say", "Hangup"]
    assert "can't take your call right now" in root.find("Say").text


def test_fallback_url_answers_normally_when_the_store_is_back(client, settings, business, ports):
    set_voice(ports, open_action="voicemail")
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid), query={"fallback": "1"}))
    assert "Record" in verbs(root)
    assert call_doc(ports, sid)["route"] == "voicemail"


def test_fallback_url_checks_the_signature(client, settings, business):
    params = call_params(new_call_sid())
    assert answer(client, settings, params, query={"fallback": "1"}, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    from tests.functions.voice.support import sign

    signed_for_voice_url = sign(settings, settings.function_url("voice_answer"), params)
    assert answer(client, settings, params, query={"fallback": "1"}, signature=signed_for_voice_url).status_code == 403


# --- routes -----------------------------------------------------------------------------------------

def test_ai_path_registers_with_retell_and_dials_its_sip_address(client, settings, business, ports, retell_sandbox):
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root) == ["Say", "Dial"]  # the notice first, then the agent
    assert root.find("Say").text == "This call may be recorded."
    [registered] = retell_sandbox.calls.values()
    call_id = registered["call_id"]
    assert root.find("Dial/Sip").text == f"sip:{call_id}@sip.retellai.com"
    dial_action = root.find("Dial").get("action")
    assert dial_action.startswith(settings.function_url("voice_ivr") + "?")
    assert query_of(dial_action) == {"kind": "ai", "step": "dial", "t": TENANT}

    assert registered["metadata"] == {"tenant_id": TENANT, "call_sid": sid}
    assert (registered["from_number"], registered["to_number"], registered["direction"]) == (CALLER, NUMBER, "inbound")
    variables = registered["retell_llm_dynamic_variables"]
    assert variables["business_name"] == "Sunrise Plumbing"
    assert variables["caller_name"] == "Maria Lopez"  # a known contact
    assert variables["today"] == "Monday, March 2, 2026"
    assert (variables["current_time"], variables["time_zone"], variables["time_zone_abbreviation"]) == (
        "10:00 AM", "America/Denver", "MST")
    assert variables["business_hours"].startswith("Monday to Friday 9:00 AM to 5:00 PM")
    assert variables["greeting"] == "Thanks for calling Sunrise Plumbing."

    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["retell_call_id"]) == ("ai", "business_hours", call_id)
    assert doc["recording_notice_played"] is True and doc["recording_notice"] == "This call may be recorded."
    assert (doc["from"], doc["to"], doc["caller_name"]) == (CALLER, NUMBER, "Maria Lopez")
    assert "status" not in doc  # the status callbacks own it (voice_answer does not read-modify-write it)
    assert ports.store().get(f"retell_calls/{call_id}") ["call_sid"] == sid
    assert doc["expire_at"] > doc["created_at"]


def test_a_status_callback_between_the_read_and_the_write_is_kept(client, settings, business, ports):
    """voice_answer reads the call (none yet) and then creates it; a status callback that lands in
    between must neither be overwritten nor make the answer fail."""
    from shared.voice.status import handle_callback

    sid = new_call_sid()
    set_voice(ports, open_action="voicemail")
    real = ports.store()

    class RacingStore:
        def __getattr__(self, name):
            return getattr(real, name)

        def get_many(self, paths):
            found = real.get_many(paths)
            handle_callback(ports, call_params(sid, status="in-progress"), {})  # lands right after the read
            return found

    ports.provide(store=RacingStore())
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root) == ["Say", "Say", "Record", "Say", "Hangup"]
    assert root[0].text == "This call may be recorded."
    doc = call_doc(ports, sid)
    assert doc["status"] == "in-progress"  # the callback's write survived
    assert (doc["route"], doc["recording_notice_played"], doc["from"]) == ("voicemail", True, CALLER)
    assert [h["route"] for h in doc["route_history"]] == ["voicemail"]


def test_unknown_caller_has_no_name_for_the_agent(client, settings, business, retell_sandbox):
    answer(client, settings, call_params(new_call_sid(), from_="+17205550123"))
    [registered] = retell_sandbox.calls.values()
    assert registered["retell_llm_dynamic_variables"]["caller_name"] == ""
    assert registered["retell_llm_dynamic_variables"]["caller_known"] == "no"


def test_answering_the_same_call_twice_registers_it_once(client, settings, business, retell_sandbox):
    sid = new_call_sid()
    first = twiml(answer(client, settings, call_params(sid)))
    second = twiml(answer(client, settings, call_params(sid)))
    assert len(retell_sandbox.calls) == 1
    assert first.find("Dial/Sip").text == second.find("Dial/Sip").text


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_retell_outage_falls_back_to_voicemail_and_says_why(client, settings, business, ports, retell_sandbox,
                                                            monkeypatch, mode):
    from shared.providers import retell

    monkeypatch.setattr(retell, "REGISTER_BUDGET_SECONDS", 1.0)
    retell_sandbox.outage(mode, delay=5)
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root) == ["Say", "Say", "Record", "Say", "Hangup"]
    assert root[0].text == "This call may be recorded."  # before the recording starts
    record = root.find("Record")
    assert record.get("recordingStatusCallback") == settings.function_url("voice_status") + f"?t={TENANT}"
    assert record.get("playBeep") == "true"
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"]) == ("voicemail", "ai_unavailable")
    assert ("HTTP 500" if mode == "error" else "timed out") in doc["route_detail"]
    assert doc["recording_notice_played"] is True and doc["answered_by"] == "voicemail"


def test_blocked_caller_is_rejected_and_the_business_can_see_it(client, settings, business, ports, retell_sandbox):
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid, from_=SPAMMER)))
    assert verbs(root) == ["Reject"]
    assert root.find("Reject").get("reason") == "busy"
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["recording_notice_played"]) == ("rejected", "blocked_caller", False)
    assert retell_sandbox.calls == {}


def test_suspended_business_takes_voicemail(client, settings, business, ports, retell_sandbox):
    from shared import tenants
    from shared.models.tenant import TenantStatus

    tenants.set_status(ports.store(), TENANT, TenantStatus.suspended, "unpaid")
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root)[:3] == ["Say", "Say", "Record"]
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["recording_notice_played"]) == ("voicemail", "service_suspended", True)
    assert retell_sandbox.calls == {}


def test_after_hours_voicemail_uses_the_tenants_prompt(client, settings, business, ports, clock):
    set_voice(ports, after_hours_action="voicemail", voicemail_prompt="We're closed. Leave a message.")
    clock.current = CLOSED
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert [s.text for s in root.findall("Say")][:2] == ["This call may be recorded.", "We're closed. Leave a message."]
    assert query_of(root.find("Record").get("action")) == {"step": "recorded", "t": TENANT}
    assert call_doc(ports, sid)["route_reason"] == "after_hours"


def test_a_settings_change_applies_to_the_very_next_call(client, settings, business, ports, clock):
    """The answer path keeps parsed settings and rendered TwiML per instance: a change the owner
    makes must still be heard on the next call, and changing it back too."""
    clock.current = CLOSED
    prompts = []
    for prompt in ("We're closed.", "Back at 8 tomorrow.", "We're closed."):
        set_voice(ports, after_hours_action="voicemail", voicemail_prompt=prompt)
        root = twiml(answer(client, settings, call_params(new_call_sid())))
        prompts.append([s.text for s in root.findall("Say")][1])
    set_voice(ports, after_hours_action="voicemail", voicemail_prompt="We're closed.", blocked_numbers=[CALLER])
    assert verbs(twiml(answer(client, settings, call_params(new_call_sid())))) == ["Reject"]
    assert prompts == ["We're closed.", "Back at 8 tomorrow.", "We're closed."]


def test_custom_recording_notice_is_played_and_stored(client, settings, business, ports):
    ports.store().update(f"tenants/{TENANT}", {"settings.recording_notice": "Calls are recorded for quality."})
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert root.find("Say").text == "Calls are recorded for quality."
    assert call_doc(ports, sid)["recording_notice"] == "Calls are recorded for quality."


def test_ivr_menu_plays_the_notice_then_gathers_keys_or_speech(client, settings, business, ports):
    set_voice(ports, ivr=MENU)
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    gather = root.find("Gather")
    assert (gather.get("input"), gather.get("numDigits"), gather.get("actionOnEmptyResult")) == ("dtmf speech", "1", "true")
    assert query_of(gather.get("action")) == {"attempt": "1", "t": TENANT}
    said = " ".join(s.text for s in gather.findall("Say"))
    assert said.startswith("Thanks for calling Sunrise Plumbing. For Scheduling, press 1. For Billing, press 2.")
    assert call_doc(ports, sid)["route"] == "ivr"


def test_vip_is_forwarded_with_recording_and_a_voicemail_fallback(client, settings, business, ports):
    set_voice(ports, vip_numbers=[CALLER], vip_forward_to=["dana", "lee"])
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert verbs(root) == ["Say", "Say", "Dial"]
    dial = root.find("Dial")
    assert [n.text for n in dial.findall("Number")] == [DANA, LEE]
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == settings.function_url("voice_status") + f"?t={TENANT}"
    assert query_of(dial.get("action")) == {"kind": "forward", "step": "dial", "t": TENANT}
    assert dial.get("timeout") == "20"
    number = dial.find("Number")
    assert (number.get("statusCallbackEvent"), query_of(number.get("statusCallback"))) == (
        "answered", {"leg": "forward", "t": TENANT})
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["forward_to"]) == ("forward", "vip", [DANA, LEE])


def test_forward_without_recording_plays_no_notice(client, settings, business, ports):
    set_voice(ports, open_action="forward", record_forwarded_calls=False)
    sid = new_call_sid()
    root = twiml(answer(client, settings, call_params(sid)))
    assert [s.text for s in root.findall("Say")] == ["Please hold while we connect your call."]
    assert root.find("Dial").get("record") is None
    assert call_doc(ports, sid)["recording_notice_played"] is False


def _modules_after(code: str) -> set[str]:
    import json
    import subprocess
    import sys

    from tools.wsgi import REPO

    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_voice_answer_imports_retell_at_start_up_and_never_stripe():
    # Namespace-package .pth files put empty top-level modules into every interpreter: subtract them.
    # (The instance imports retell in the background from its start: wait for that, as the AI route does.)
    loaded = _modules_after("import functions_framework\nfunctions_framework.create_app(target='voice_answer', "
                            "source='functions/voice_answer/main.py')\nfrom shared import warmup\n"
                            "warmup.wait('retell')") - _modules_after("pass")
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"stripe", "resend", "intuitlib"}
    assert "retell" in tops  # imported while the instance starts, not during a call


# --- the business's greeting ----------------------------------------------------------------------

def _menu_greeting(client, settings) -> str:
    root = twiml(answer(client, settings, call_params(new_call_sid())))
    return root.find("Gather/Say").text


def _agent_greeting(client, settings, retell_sandbox) -> str:
    root = twiml(answer(client, settings, call_params(new_call_sid())))
    call_id = root.find("Dial/Sip").text.removeprefix("sip:").split("@")[0]
    return retell_sandbox.calls[call_id]["retell_llm_dynamic_variables"]["greeting"]


def test_a_changed_greeting_is_heard_on_the_next_call(client, settings, business, ports, retell_sandbox):
    set_voice(ports, ivr=MENU, greeting="Sunrise Plumbing, Denver's leak fixers.")
    assert _menu_greeting(client, settings) == "Sunrise Plumbing, Denver's leak fixers."
    set_voice(ports, ivr=MENU, greeting="Sunrise Plumbing, now open Saturdays.")
    assert _menu_greeting(client, settings) == "Sunrise Plumbing, now open Saturdays."  # not the cached TwiML
    set_voice(ports, greeting="Sunrise Plumbing, now open Saturdays.")  # no menu: the AI agent answers
    assert _agent_greeting(client, settings, retell_sandbox) == "Sunrise Plumbing, now open Saturdays."


def test_a_greeting_stored_the_old_way_is_still_the_greeting(client, settings, business, ports, retell_sandbox):
    # documents written before voice.greeting kept it at settings.greeting
    ports.store().update(f"tenants/{TENANT}", {"settings.greeting": "Welcome to Sunrise Plumbing!"})
    assert _agent_greeting(client, settings, retell_sandbox) == "Welcome to Sunrise Plumbing!"
    set_voice(ports, ivr=MENU)
    assert _menu_greeting(client, settings) == "Welcome to Sunrise Plumbing!"
    set_voice(ports, ivr=MENU, greeting="Sunrise Plumbing, hello.")  # the new field wins once set
    assert _menu_greeting(client, settings) == "Sunrise Plumbing, hello."


# --- a replayed request for a call that ended -------------------------------------------------------

def _complete(client, settings, sid):
    import datetime as dt
    import email.utils

    from tests.functions.voice.support import post

    ended = call_params(sid, status="completed", CallDuration="30", CallbackSource="call-progress-events",
                        Timestamp=email.utils.format_datetime(dt.datetime.now(dt.timezone.utc)))
    assert post(client, settings, "voice_status", ended).status_code == 200


def test_a_replayed_answer_for_a_finished_voicemail_hangs_up_and_registers_nothing(
        client, settings, business, ports, retell_sandbox):
    from tests.functions.voice.support import set_voice

    set_voice(ports, open_action="voicemail")
    sid = new_call_sid()
    captured = call_params(sid)
    assert "Record" in verbs(twiml(answer(client, settings, captured)))
    _complete(client, settings, sid)
    before = call_doc(ports, sid)
    set_voice(ports, open_action="ai")  # today the business routes to the AI agent
    root = twiml(answer(client, settings, captured))  # the same signed request, sent again
    assert verbs(root) == ["Hangup"]
    assert retell_sandbox.calls == {}
    assert call_doc(ports, sid) == before
