"""``/api/v1/appointments`` through the real app: lists (paged, local times, the caller as a
number id), the week, one appointment with its open times, cancel and reschedule with the slot
locks kept right and the caller texted only through the send gate (and the answer says why
not), taken / unoffered times refused, roles, and another business's appointment not found."""

from __future__ import annotations

import datetime as dt

from shared.contacts import ids
from shared.models.tenant import Role
from shared.scheduling import appointments as A
from shared.scheduling import slots as S
from tests.functions.app.api_world import token_for
from tests.functions.app.conftest import add_member, make_business
from tests.functions.app.dashboard import conftest as dashboard
from tests.functions.app.dashboard.conftest import OPTED_IN, STRANGER

# the dashboard's texting business (Denver, Monday 11:00, one opted-in caller) and Twilio sandbox
settings, texting = dashboard.settings, dashboard.texting

TUESDAY_10 = dt.datetime(2026, 3, 3, 17, 0, tzinfo=dt.timezone.utc)  # 10:00 in Denver
TUESDAY_14 = dt.datetime(2026, 3, 3, 21, 0, tzinfo=dt.timezone.utc)


def _book(scope, clock, start, phone, name):
    booking = A.book(scope, scope.tenant(), clock.now(), start=start, booking_key=f"test:{start.isoformat()}",
                     customer_name=name, customer_phone=phone, reason="Leaking faucet")
    assert booking.status == "booked"
    return booking.appointment


_token = token_for


def _owner(ports, business):
    return _token(ports, business.tenant_id, business.owner_id)


def test_lists_are_paged_in_local_time_and_name_the_caller_by_id(app_client, texting, business, clock, ports):
    ana = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    ben = _book(texting, clock, TUESDAY_14, STRANGER, "Ben Ito")
    past = A.Appointment(id="a_past", start=clock.now() - dt.timedelta(days=3),
                         end=clock.now() - dt.timedelta(days=3, hours=-1), time_zone="America/Denver", label="last week",
                         slot_key="x", customer_name="Old Timer", booking_key="k",
                         created_at=clock.now() - dt.timedelta(days=9))
    texting.set("appointments/a_past", past.to_doc())
    owner = _owner(ports, business)
    first = app_client.get("/api/v1/appointments?limit=1", headers=owner)
    assert first.status_code == 200, first.text
    page = first.get_json()
    (item,) = page["items"]
    assert item["id"] == ana.id and item["customer_name"] == "Ana Lopez" and item["status"] == "booked"
    assert item["start"] == "2026-03-03T10:00:00-07:00" and item["time_zone"] == "America/Denver"
    assert item["number_id"] == ids.number_id(texting, OPTED_IN) and OPTED_IN not in first.text
    second = app_client.get(f"/api/v1/appointments?limit=1&cursor={page['next_cursor']}", headers=owner).get_json()
    assert [i["id"] for i in second["items"]] == [ben.id] and second["next_cursor"] is None
    earlier = app_client.get("/api/v1/appointments?when=past", headers=owner).get_json()["items"]
    assert [i["customer_name"] for i in earlier] == ["Old Timer"] and earlier[0]["number_id"] is None
    assert app_client.get("/api/v1/appointments?when=someday", headers=owner).status_code == 422


def test_the_week_has_seven_local_days_with_their_appointments(app_client, texting, business, clock, ports):
    ana = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    owner = _owner(ports, business)
    week = app_client.get("/api/v1/appointments/week", headers=owner).get_json()
    assert (week["start"], week["previous"], week["next"]) == ("2026-03-02", "2026-02-23", "2026-03-09")
    assert [d["weekday"] for d in week["days"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert [a["id"] for a in week["days"][1]["appointments"]] == [ana.id]
    assert sum(len(d["appointments"]) for d in week["days"]) == 1
    other = app_client.get("/api/v1/appointments/week?start=2026-03-12", headers=owner).get_json()
    assert other["start"] == "2026-03-09" and not any(d["appointments"] for d in other["days"])
    for bad in ("start=not-a-date", "start=9999-12-31", "limit=5"):
        reply = app_client.get(f"/api/v1/appointments/week?{bad}", headers=owner)
        assert reply.status_code == 422 and reply.get_json()["error"]["code"] == "invalid_input", bad


def test_reschedule_texts_an_opted_in_caller_once_and_moves_the_slot_lock(app_client, texting, business, clock, ports,
                                                                          twilio):
    appointment = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    owner = _owner(ports, business)
    detail = app_client.get(f"/api/v1/appointments/{appointment.id}", headers=owner).get_json()
    assert "2026-03-03T14:00:00-07:00" in [s["start"] for s in detail["open_times"]]
    moved = app_client.post(f"/api/v1/appointments/{appointment.id}/reschedule", json={"start": "2026-03-03T14:00"},
                            headers=owner)
    assert moved.status_code == 200, moved.text
    answer = moved.get_json()
    assert answer["appointment"]["start"] == "2026-03-03T14:00:00-07:00"
    assert answer["caller_text"] == {"sent": True, "reason": None, "retry_at": None,
                                     "message": "The caller was texted."}
    assert len(twilio.sent_to(OPTED_IN)) == 1
    assert texting.get(f"appointment_slots/{S.slot_key(TUESDAY_10)}") is None
    assert texting.get(f"appointment_slots/{S.slot_key(TUESDAY_14)}")["appointment_id"] == appointment.id
    again = app_client.post(f"/api/v1/appointments/{appointment.id}/reschedule", json={"start": "2026-03-03T14:00"},
                            headers=owner).get_json()
    assert again["caller_text"]["reason"] == "unchanged" and not again["caller_text"]["sent"]
    assert len(twilio.sent_to(OPTED_IN)) == 1


def test_cancel_says_why_a_caller_who_never_opted_in_was_not_texted(app_client, texting, business, clock, ports,
                                                                    twilio):
    appointment = _book(texting, clock, TUESDAY_14, STRANGER, "Ben Ito")
    owner = _owner(ports, business)
    reply = app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=owner)
    assert reply.status_code == 200, reply.text
    answer = reply.get_json()
    assert answer["appointment"]["status"] == "cancelled" and answer["appointment"]["cancelled_at"]
    text = answer["caller_text"]
    assert (text["sent"], text["reason"]) == (False, "not_opted_in") and "has not opted in" in text["message"]
    assert twilio.sent_to(STRANGER) == []
    assert TUESDAY_14 in [s.start for s in A.open_slots(texting, texting.tenant(), clock.now(), days=2)]
    detail = app_client.get(f"/api/v1/appointments/{appointment.id}", headers=owner).get_json()
    assert detail["status"] == "cancelled" and detail["open_times"] is None
    again = app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=owner).get_json()
    assert again["caller_text"]["reason"] == "unchanged"
    moved = app_client.post(f"/api/v1/appointments/{appointment.id}/reschedule", json={"start": "2026-03-03T15:00"},
                            headers=owner)
    assert moved.status_code == 409


def test_taken_and_unoffered_times_are_refused_on_the_start_field(app_client, texting, business, clock, ports,
                                                                  twilio):
    first = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    _book(texting, clock, TUESDAY_14, STRANGER, "Ben Ito")
    owner = _owner(ports, business)

    def move(start):
        return app_client.post(f"/api/v1/appointments/{first.id}/reschedule", json={"start": start}, headers=owner)

    taken = move("2026-03-03T14:00")
    assert taken.status_code == 409 and "already booked" in taken.get_json()["error"]["message"]
    for start in ("2026-03-08T10:00", "2026-03-02T09:00", "soon"):  # a Sunday, the past, not a time
        refused = move(start)
        assert refused.status_code == 422, (start, refused.text)
        assert refused.get_json()["error"]["field"] == "start"
    assert texting.get(f"appointments/{first.id}")["start"] == TUESDAY_10 and twilio.sent_to(OPTED_IN) == []


def test_roles_and_another_businesss_appointment(app_client, texting, business, clock, ports):
    appointment = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    viewer = _token(ports, business.tenant_id, add_member(ports, business, "viewer@sunrise.example", Role.viewer))
    staff = _token(ports, business.tenant_id, add_member(ports, business, "staff@sunrise.example", Role.staff))
    seen = app_client.get(f"/api/v1/appointments/{appointment.id}", headers=viewer)
    assert seen.status_code == 200 and seen.get_json()["open_times"] is None
    assert app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=viewer).status_code == 403
    assert app_client.get(f"/api/v1/appointments/{appointment.id}", headers=staff).get_json()["open_times"]
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    stranger = _owner(ports, other)
    assert app_client.get(f"/api/v1/appointments/{appointment.id}", headers=stranger).status_code == 404
    assert app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=stranger).status_code == 404
    assert app_client.post(f"/api/v1/appointments/{appointment.id}/reschedule", json={"start": "2026-03-03T14:00"},
                           headers=stranger).status_code == 404
    assert app_client.get("/api/v1/appointments", headers=stranger).get_json()["items"] == []
    assert texting.get(f"appointments/{appointment.id}")["status"] == "booked"
    assert app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=staff).status_code == 200


def test_a_notice_another_request_is_sending_is_a_409_to_retry_not_a_500(app_client, texting, business, clock, ports,
                                                                          monkeypatch):
    """The gate's InProgress (the same notice's key held by a concurrent cancel) reaches the
    client as 409 + Retry-After (the pages answer the same status with a page)."""
    from shared.idempotency import InProgress
    from shared.scheduling import manage

    def held(*_args, **_kwargs):
        raise InProgress("sms:cancel")

    monkeypatch.setattr(manage, "send_sms", held)
    appointment = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    answer = app_client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=_owner(ports, business))
    assert answer.status_code == 409 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"]["code"] == "in_progress"
