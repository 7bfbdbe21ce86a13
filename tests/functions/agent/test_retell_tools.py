"""retell_tools (the agent's custom functions) through functions-framework, signed like Retell."""

from __future__ import annotations

import threading

import pytest

from shared.ports import Query

from tests.functions.agent.support import call_doc, post_retell, retell_signature, start_ai_call, tasks, tool
from tests.functions.voice.support import CALLER, DANA, TENANT, DownStore, set_voice

THURSDAY_2PM = "2026-03-05T14:00:00-07:00"


@pytest.fixture
def ai_call(client, settings, business, retell_sandbox):
    return start_ai_call(client, settings, retell_sandbox)


def appointments(ports):
    return [d.data for d in ports.store().query(Query(f"tenants/{TENANT}/appointments"))]


# --- availability and booking ---------------------------------------------------------------------

def test_check_availability_offers_open_slots_in_the_business_time_zone(client, settings, ai_call):
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "check_availability")
    assert status == 200
    # Monday 10:00 now, two hours' notice: noon first; at most three a day so the caller hears a choice of days
    assert [s["start"] for s in answer["slots"]] == [
        "2026-03-02T12:00:00-07:00", "2026-03-02T13:00:00-07:00", "2026-03-02T14:00:00-07:00",
        "2026-03-03T09:00:00-07:00", "2026-03-03T10:00:00-07:00", "2026-03-03T11:00:00-07:00"]
    assert answer["slots"][0]["label"] == "Monday, March 2 at 12:00 PM Mountain Time"
    assert answer["result"] == ("Open appointment times: Monday, March 2 at 12:00 PM, 1:00 PM or 2:00 PM; "
                                "Tuesday, March 3 at 9:00 AM, 10:00 AM or 11:00 AM (Mountain Time).")
    assert answer["time_zone"] == "America/Denver"


def test_availability_excludes_booked_slots(client, settings, ports, ai_call, retell_sandbox):
    _sid, call = ai_call
    _, before = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
    assert THURSDAY_2PM in [s["start"] for s in before["slots"]]
    _, other_call = start_ai_call(client, settings, retell_sandbox, from_="+17205550123")
    status, booked = tool(client, settings, other_call, "book_appointment", start=THURSDAY_2PM, name="Pat Lee")
    assert status == 200 and booked["booked"] is True
    _, after = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
    assert [s["start"] for s in after["slots"]] == [s["start"] for s in before["slots"] if s["start"] != THURSDAY_2PM]


def test_book_appointment_states_date_time_and_zone_and_logs_it(client, settings, ports, ai_call):
    sid, call = ai_call
    status, answer = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Maria Lopez",
                          reason="water heater leaking")
    assert status == 200 and answer["booked"] is True
    assert "Thursday, March 5 at 2:00 PM Mountain Time" in answer["result"]
    [appt] = appointments(ports)
    assert appt["label"] == "Thursday, March 5 at 2:00 PM Mountain Time"
    assert (appt["customer_name"], appt["customer_phone"], appt["reason"]) == ("Maria Lopez", CALLER,
                                                                               "water heater leaking")
    assert (appt["call_sid"], appt["retell_call_id"], appt["status"]) == (sid, call["call_id"], "booked")
    assert ports.store().get(f"tenants/{TENANT}/appointment_slots/2026-03-05T21:00Z")["appointment_id"] == appt["id"]
    texts = [e["text"] for e in call_doc(ports, sid)["action_log"]]
    assert "AI booked an appointment for March 5 at 2:00 PM MST (Maria Lopez)" in texts


def test_a_retried_booking_answers_the_same_and_books_once(client, settings, ports, ai_call):
    sid, call = ai_call
    first = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Maria Lopez")
    second = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Maria Lopez")
    assert first == second and first[1]["booked"] is True
    assert len(appointments(ports)) == 1
    assert sum("booked" in e["text"] for e in call_doc(ports, sid)["action_log"]) == 1


def test_concurrent_bookings_of_one_slot_make_exactly_one_appointment(client, settings, ports, business,
                                                                       retell_sandbox):
    from tools.wsgi import function_app

    calls = [start_ai_call(client, settings, retell_sandbox, from_=f"+1720555{1000 + i}")[1] for i in range(8)]
    app = function_app("retell_tools")
    barrier = threading.Barrier(len(calls))
    answers: list[dict] = [None] * len(calls)  # type: ignore[list-item]

    def book(i: int) -> None:
        local_client = app.test_client()
        barrier.wait()
        response = post_retell(lambda _name: local_client, settings, "retell_tools",
                               {"name": "book_appointment", "args": {"start": THURSDAY_2PM, "name": f"Caller {i}"},
                                "call": calls[i]})
        assert response.status_code == 200
        answers[i] = response.get_json()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(a["booked"] for a in answers) == 1
    assert len(appointments(ports)) == 1
    for a in answers:
        if not a["booked"]:
            assert a["error"].startswith("That time was just taken.")
            assert THURSDAY_2PM not in [s["start"] for s in a["slots"]] and a["slots"]


def test_a_time_that_is_not_offered_gets_nearby_choices(client, settings, ports, ai_call):
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "book_appointment", start="2026-03-05T14:30:00-07:00", name="Pat")
    assert status == 200 and answer["booked"] is False
    assert answer["error"].startswith("That time is not an open time. Nearby open times: Thursday, March 5 at")
    assert [s["start"] for s in answer["slots"]] == ["2026-03-05T13:00:00-07:00", "2026-03-05T14:00:00-07:00",
                                                     "2026-03-05T15:00:00-07:00"]
    assert appointments(ports) == []


# --- the other tools --------------------------------------------------------------------------------

def test_take_message_stores_it_and_notifies_once(client, settings, ports, ai_call):
    sid, call = ai_call
    args = {"message": "Please call back about the invoice.", "name": "Maria", "urgent": True}
    first = tool(client, settings, call, "take_message", **args)
    again = tool(client, settings, call, "take_message", **args)
    assert first == again and first[1]["saved"] is True
    [message] = call_doc(ports, sid)["messages_taken"]
    assert (message["message"], message["callback_number"], message["urgent"]) == (args["message"], CALLER, True)
    [(_name, body)] = tasks(settings, "notify")
    from shared.notifications import NotifyRequest

    request = NotifyRequest.from_bytes(body)
    assert (request.template, request.tenant_id, request.context["message"]) == ("new_voicemail", TENANT,
                                                                                 args["message"])
    assert "AI took an urgent message from Maria" in [e["text"] for e in call_doc(ports, sid)["action_log"]]


def test_transfer_call_returns_a_number_from_the_routing_rules(client, settings, ports, ai_call):
    sid, call = ai_call
    status, answer = tool(client, settings, call, "transfer_call", to="Dana")
    assert status == 200 and answer["transfer_to"] == DANA and answer["name"] == "Dana Rivera"
    _, default = tool(client, settings, call, "transfer_call")
    assert default["transfer_to"] == DANA and default["alternates"]  # the whole team, in order
    _, nobody = tool(client, settings, call, "transfer_call", to="the plumber's cousin")
    assert nobody["error"].startswith("I don't know who 'the plumber's cousin' is.")
    set_voice(ports, team=[])
    _, empty = tool(client, settings, call, "transfer_call")
    assert empty["error"].startswith("Nobody is available")
    assert "AI transferred the caller to Dana Rivera" in [e["text"] for e in call_doc(ports, sid)["action_log"]]


def test_lookup_caller_tells_the_name_and_nothing_else(client, settings, ports, ai_call, retell_sandbox):
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "lookup_caller", number="+17205550123")  # args are ignored
    assert status == 200 and answer == {"known": True, "name": "Maria Lopez",
                                        "result": "The caller is Maria Lopez, a known contact."}
    _, stranger = start_ai_call(client, settings, retell_sandbox, from_="+17205550123")
    _, unknown = tool(client, settings, stranger, "lookup_caller")
    assert unknown["known"] is False and "name" not in unknown


def test_record_sms_consent_writes_the_ledger(client, settings, ports, ai_call):
    from shared.consent import ConsentState, current_state, history
    from shared.tenants import TenantScope

    sid, call = ai_call
    for _ in range(2):  # retried: one event
        status, answer = tool(client, settings, call, "record_sms_consent", agreed=True)
        assert status == 200 and answer["recorded"] is True
    scope = TenantScope(ports.store(), TENANT)
    assert current_state(scope, CALLER) == ConsentState.opted_in
    [entry] = history(scope, CALLER)
    assert (entry.method, entry.source_id) == ("verbal", sid) and "STOP" in entry.disclosure


# --- errors the agent can say -----------------------------------------------------------------------

def test_unknown_tools_and_bad_arguments_get_a_sentence_not_a_500(client, settings, ports, ai_call):
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "order_pizza", size="large")
    assert status == 200 and answer["error"].startswith("There is no tool called 'order_pizza'.")
    status, answer = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM)  # no name
    assert status == 200 and answer["error"].startswith("Invalid arguments (name: field required)")
    status, answer = tool(client, settings, call, "book_appointment", start="next thursday", name="Pat")
    assert status == 200 and answer["error"] == ("I could not read that start time; use one of the times "
                                                 "check_availability gave.")
    status, answer = tool(client, settings, call, "check_availability", days="many")
    assert status == 200 and answer["error"].startswith("Invalid arguments (days:")
    status, answer = tool(client, settings, call, "take_message", message="call me", callback_number="12")
    assert status == 200 and "not a valid phone number" in answer["error"]
    assert appointments(ports) == []


@pytest.mark.parametrize("start", ["9999-12-31T23:30", "9999-12-31T10:00:00-07:00", "0001-01-01T00:00:00-12:00",
                                   "2031-03-05T14:00:00-07:00"])
def test_a_booking_beyond_any_horizon_gets_a_sentence(client, settings, ports, ai_call, start):
    """The model composes these arguments: a date at the calendar's limits overflowed (500), so
    the agent had nothing to say. Now it hears why and what to do."""
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "book_appointment", start=start, name="Pat")
    assert status == 200
    assert answer["error"] == "That date is more than a year from today; use one of the times check_availability gave."
    assert appointments(ports) == []


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_availability_on_a_date_at_the_calendar_limits_says_nothing_is_open(client, settings, ai_call, date):
    _sid, call = ai_call
    status, answer = tool(client, settings, call, "check_availability", date=date)
    assert status == 200 and answer["slots"] == []
    assert answer["result"].startswith("There are no open appointment times on ")


def test_a_call_we_do_not_know_gets_a_sentence(client, settings, ai_call):
    _sid, call = ai_call
    status, answer = tool(client, settings, {**call, "call_id": "web_call_1", "metadata": {}}, "check_availability")
    assert status == 200 and answer["error"].startswith("I can't reach this business's records")


def test_signatures_malformed_bodies_and_outages(client, settings, ports, ai_call):
    _sid, call = ai_call
    body = {"name": "check_availability", "args": {}, "call": call}
    forged = retell_signature(settings, b"{}", key="wrong")
    assert post_retell(client, settings, "retell_tools", body, signature=forged).status_code == 403
    assert post_retell(client, settings, "retell_tools", body, signature="").status_code == 403
    assert post_retell(client, settings, "retell_tools", None, raw=b"{oops").status_code == 400
    assert post_retell(client, settings, "retell_tools", {"args": {}, "call": call}).status_code == 400
    ports.provide(store=DownStore())
    assert post_retell(client, settings, "retell_tools", body).status_code == 503
