"""voice_ivr: the IVR menu's answers, forwards and AI legs that ended, recorded voicemails."""

from __future__ import annotations

import pytest

from tests.functions.voice.support import (
    DANA, LEE, MENU, TENANT, DownStore, call_doc, call_params, follow, new_call_sid, post, query_of, set_voice, twiml,
    verbs,
)


@pytest.fixture
def menu_call(client, settings, business, ports):
    """A call that was answered with the IVR menu; returns (call_sid, the Gather action URL)."""
    set_voice(ports, ivr=MENU)
    sid = new_call_sid()
    root = twiml(post(client, settings, "voice_answer", call_params(sid)))
    return sid, root.find("Gather").get("action")


def gather(client, settings, url, sid, **fields):
    return follow(client, settings, url, call_params(sid, status="in-progress", **fields))


def test_keypad_choice_forwards_to_the_team_member_without_repeating_the_notice(client, settings, menu_call, ports):
    sid, action = menu_call
    root = twiml(gather(client, settings, action, sid, Digits="2"))
    assert verbs(root) == ["Say", "Dial"]  # "please hold", then the forward: the notice was played before the menu
    assert root.find("Say").text == "Please hold while we connect your call."
    assert [n.text for n in root.findall("Dial/Number")] == [DANA]
    doc = call_doc(ports, sid)
    assert doc["ivr"] == {"digits": "2", "speech": None, "attempts": 1}
    assert (doc["route"], doc["route_reason"], doc["route_detail"]) == ("forward", "ivr_choice", "chose 2: Billing")
    assert [h["route"] for h in doc["route_history"]] == ["ivr", "forward"]


def test_spoken_choice_is_stored_and_routed(client, settings, menu_call, ports):
    sid, action = menu_call
    root = twiml(gather(client, settings, action, sid, SpeechResult="There's a leak under my sink.", Confidence="0.91"))
    assert [n.text for n in root.findall("Dial/Number")] == [DANA, LEE]
    assert call_doc(ports, sid)["ivr"]["speech"] == "There's a leak under my sink."


@pytest.mark.parametrize("first", [{"Digits": "7"}, {}])
def test_invalid_or_missing_choice_repeats_the_menu_once_then_takes_voicemail(client, settings, menu_call, ports, first):
    sid, action = menu_call
    again = twiml(gather(client, settings, action, sid, **first))
    assert verbs(again) == ["Gather", "Redirect"]  # no second notice
    assert again.find("Gather/Say").text == "Sorry, I didn't get that."
    second_action = again.find("Gather").get("action")
    assert query_of(second_action) == {"attempt": "2", "t": TENANT}
    root = twiml(gather(client, settings, second_action, sid, **first))
    assert verbs(root) == ["Say", "Record", "Say", "Hangup"]  # the voicemail prompt; the notice was heard already
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["ivr"]["attempts"]) == ("voicemail", "ivr_no_choice", 2)


def test_ai_choice_is_handed_to_voice_answer_which_registers_with_retell(client, settings, menu_call, ports,
                                                                       retell_sandbox):
    sid, action = menu_call
    root = twiml(gather(client, settings, action, sid, Digits="1"))
    assert verbs(root) == ["Redirect"]
    target = root.find("Redirect").text
    assert target.startswith(settings.function_url("voice_answer") + "?")
    assert query_of(target) == {"option": "1", "route": "ai", "t": TENANT}
    sip = twiml(follow(client, settings, target, call_params(sid, status="in-progress")))
    assert verbs(sip) == ["Dial"]  # no second notice
    [registered] = retell_sandbox.calls.values()
    assert sip.find("Dial/Sip").text == f"sip:{registered['call_id']}@sip.retellai.com"
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_detail"], doc["retell_call_id"]) == ("ai", "chose 1: Scheduling", registered["call_id"])


def test_forward_nobody_answered_goes_to_voicemail(client, settings, business, ports):
    set_voice(ports, open_action="forward")
    sid = new_call_sid()
    dial = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Dial")
    root = twiml(follow(client, settings, dial.get("action"),
                        call_params(sid, status="in-progress", DialCallStatus="no-answer")))
    assert verbs(root) == ["Say", "Record", "Say", "Hangup"]  # the notice was played before the forward
    doc = call_doc(ports, sid)
    assert (doc["route"], doc["route_reason"], doc["answered_by"]) == ("voicemail", "forward_unanswered", "voicemail")


def test_unrecorded_forward_that_fails_plays_the_notice_before_the_voicemail(client, settings, business, ports):
    set_voice(ports, open_action="forward", record_forwarded_calls=False)
    sid = new_call_sid()
    dial = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Dial")
    root = twiml(follow(client, settings, dial.get("action"), call_params(sid, status="in-progress", DialCallStatus="busy")))
    assert verbs(root)[:3] == ["Say", "Say", "Record"]
    assert root[0].text == "This call may be recorded."
    assert call_doc(ports, sid)["recording_notice_played"] is True


def test_answered_forward_ends_the_call(client, settings, business, ports):
    set_voice(ports, open_action="forward")
    sid = new_call_sid()
    dial = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Dial")
    root = twiml(follow(client, settings, dial.get("action"),
                        call_params(sid, status="in-progress", DialCallStatus="completed", DialCallDuration="42")))
    assert verbs(root) == ["Hangup"]
    assert call_doc(ports, sid)["route"] == "forward"


def test_ai_leg_that_failed_takes_a_voicemail(client, settings, business, ports):
    sid = new_call_sid()
    dial = twiml(post(client, settings, "voice_answer", call_params(sid))).find("Dial")
    root = twiml(follow(client, settings, dial.get("action"), call_params(sid, status="in-progress", DialCallStatus="failed")))
    assert "Record" in verbs(root)
    assert call_doc(ports, sid)["route_reason"] == "ai_unavailable"


def test_recorded_voicemail_is_thanked_and_hung_up(client, settings, business):
    root = twiml(post(client, settings, "voice_ivr", call_params(new_call_sid(), status="in-progress"),
                      query={"t": TENANT, "step": "recorded"}))
    assert verbs(root) == ["Say", "Hangup"]


def test_bad_requests(client, settings, business):
    sid = new_call_sid()
    params = call_params(sid, status="in-progress")
    assert post(client, settings, "voice_ivr", params, query={"t": TENANT, "step": "dance"}).status_code == 400
    assert post(client, settings, "voice_ivr", params, query={"t": TENANT, "attempt": "x"}).status_code == 400
    assert post(client, settings, "voice_ivr", params, query={"t": TENANT, "step": "dial", "kind": "x"}).status_code == 400
    assert post(client, settings, "voice_ivr", params, query={"t": "../etc"}).status_code == 400
    assert post(client, settings, "voice_ivr", params, query={"t": TENANT}, signature="").status_code == 403
    # a signature made for another query string (attempt=1 replayed as attempt=2)
    from tests.functions.voice.support import sign

    good = sign(settings, settings.function_url("voice_ivr") + f"?attempt=1&t={TENANT}", params)
    assert post(client, settings, "voice_ivr", params, query=f"attempt=2&t={TENANT}", signature=good).status_code == 403


def test_unknown_business_hears_not_in_service(client, settings, business):
    root = twiml(post(client, settings, "voice_ivr", call_params(new_call_sid(), status="in-progress", Digits="1"),
                      query={"t": "t_gone"}))
    assert verbs(root) == ["Say", "Hangup"]


def test_store_down_answers_503(client, settings, menu_call, ports):
    sid, action = menu_call
    ports.provide(store=DownStore())
    assert gather(client, settings, action, sid, Digits="2").status_code == 503


def test_a_replayed_gather_for_a_finished_call_hangs_up_and_writes_nothing(client, settings, menu_call, ports):
    import datetime as dt
    import email.utils

    sid, action = menu_call
    captured = call_params(sid, status="in-progress", Digits="2")
    assert verbs(twiml(follow(client, settings, action, captured))) == ["Say", "Dial"]
    ended = call_params(sid, status="completed", CallDuration="40", CallbackSource="call-progress-events",
                        Timestamp=email.utils.format_datetime(dt.datetime.now(dt.timezone.utc)))
    assert post(client, settings, "voice_status", ended).status_code == 200
    before = call_doc(ports, sid)
    set_voice(ports, ivr={**MENU, "options": {"2": {"label": "Billing", "action": "voicemail"}}})
    root = twiml(follow(client, settings, action, captured))  # the same signed Gather, sent again
    assert verbs(root) == ["Hangup"]
    assert call_doc(ports, sid) == before


def test_a_card_number_typed_on_the_keypad_is_stored_masked(client, settings, menu_call, ports):
    from shared.pii.cards import find_card_number

    sid, action = menu_call
    assert gather(client, settings, action, sid, Digits="4111111111111111").status_code == 200
    doc = call_doc(ports, sid)
    assert doc["ivr"]["digits"] == "[card ending 1111]" and not find_card_number(doc)
