"""The Appointments pages through the real app: upcoming and past, the week view, cancel and
reschedule with the slot locks kept right, and the caller texted only through the send gate
(an opted-in caller gets one text, one who never opted in gets none and the page says why)."""

from __future__ import annotations

import datetime as dt
import re

from shared.accounts import audit
from shared.models.tenant import Role
from shared.scheduling import appointments as A
from shared.scheduling import slots as S
from tests.functions.app.conftest import add_member, csrf_of, make_business, sign_in
from tests.functions.app.dashboard.conftest import OPTED_IN, STRANGER

TUESDAY_10 = dt.datetime(2026, 3, 3, 17, 0, tzinfo=dt.timezone.utc)  # 10:00 in Denver
TUESDAY_14 = dt.datetime(2026, 3, 3, 21, 0, tzinfo=dt.timezone.utc)


def _book(scope, clock, start, phone, name):
    booking = A.book(scope, scope.tenant(), clock.now(), start=start, booking_key=f"test:{start.isoformat()}",
                     customer_name=name, customer_phone=phone, reason="Leaking faucet")
    assert booking.status == "booked"
    return booking.appointment


def _form(app_client, appointment_id):
    page = app_client.get(f"/appointments/{appointment_id}")
    return page, csrf_of(page.text)


def test_lists_and_week_view(app_client, texting, signed_in, clock):
    _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    past = A.Appointment(id="a_past", start=clock.now() - dt.timedelta(days=3), end=clock.now() - dt.timedelta(days=3,
                         hours=-1), time_zone="America/Denver", label="last week", slot_key="x", customer_name="Old Timer",
                         booking_key="k", created_at=clock.now() - dt.timedelta(days=9))
    texting.set("appointments/a_past", past.to_doc())
    page = app_client.get("/appointments").text
    upcoming, earlier = page.split("<h2>Past</h2>")
    assert "Ana Lopez" in upcoming and "Tue Mar 3, 10:00 AM" in upcoming and "Old Timer" in earlier
    week = app_client.get("/appointments/week").text
    assert "Week of March 2, 2026" in week and re.search(r"Tue Mar 3</h2>\s*<ul><li class=\"booked\"><a [^>]+>10:00 AM Ana", week)
    assert "Old Timer" in app_client.get("/appointments/week?start=2026-02-26").text
    assert app_client.get("/appointments/week?start=not-a-date").status_code == 200


def test_reschedule_texts_an_opted_in_caller_once_and_moves_the_slot_lock(app_client, texting, signed_in, clock, twilio,
                                                                          ports, business):
    appointment = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    page, token = _form(app_client, appointment.id)
    assert '<option value="2026-03-03T14:00">' in page.text
    moved = app_client.post(f"/appointments/{appointment.id}/reschedule", data={"csrf_token": token,
                                                                               "start": "2026-03-03T14:00"})
    assert moved.status_code == 200 and "Moved to Tuesday, March 3 at 2:00 PM" in moved.text
    assert "The caller was texted." in moved.text
    sent = twilio.sent_to(OPTED_IN)
    assert len(sent) == 1 and "moved from Tuesday, March 3 at 10:00 AM" in str(sent[0])
    assert texting.get(f"appointment_slots/{S.slot_key(TUESDAY_10)}") is None
    assert texting.get(f"appointment_slots/{S.slot_key(TUESDAY_14)}")["appointment_id"] == appointment.id
    assert texting.get(f"appointments/{appointment.id}")["start"] == TUESDAY_14
    entry = [e for e in audit.latest(ports.store(), business.tenant_id) if e["action"] == "appointment.rescheduled"]
    assert entry and entry[0]["target"] == appointment.id
    again = app_client.post(f"/appointments/{appointment.id}/reschedule", data={"csrf_token": token,
                                                                               "start": "2026-03-03T14:00"})
    assert again.status_code == 200 and len(twilio.sent_to(OPTED_IN)) == 1  # the same move twice: one text


def test_cancel_frees_the_slot_and_a_caller_who_never_opted_in_is_not_texted(app_client, texting, signed_in, clock,
                                                                             twilio):
    appointment = _book(texting, clock, TUESDAY_14, STRANGER, "Ben Ito")
    _page, token = _form(app_client, appointment.id)
    reply = app_client.post(f"/appointments/{appointment.id}/cancel", data={"csrf_token": token})
    assert reply.status_code == 200 and "Appointment cancelled." in reply.text
    assert "The caller was not texted. This number has not opted in" in reply.text
    assert twilio.sent_to(STRANGER) == []
    assert texting.get(f"appointments/{appointment.id}")["status"] == "cancelled"
    assert TUESDAY_14 in [s.start for s in A.open_slots(texting, texting.tenant(), clock.now(), days=2)]


def test_taken_and_unoffered_times_are_refused_with_a_reason(app_client, texting, signed_in, clock, twilio):
    first = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    _book(texting, clock, TUESDAY_14, STRANGER, "Ben Ito")
    _page, token = _form(app_client, first.id)
    taken = app_client.post(f"/appointments/{first.id}/reschedule", data={"csrf_token": token,
                                                                         "start": "2026-03-03T14:00"})
    assert taken.status_code == 409 and "already booked" in taken.text
    sunday = app_client.post(f"/appointments/{first.id}/reschedule", data={"csrf_token": token,
                                                                          "start": "2026-03-08T10:00"})
    assert sunday.status_code == 422 and "not one the business offers" in sunday.text
    assert app_client.post(f"/appointments/{first.id}/reschedule", data={"csrf_token": token, "start": "soon"}
                           ).status_code == 422
    assert texting.get(f"appointments/{first.id}")["start"] == TUESDAY_10 and twilio.sent_to(OPTED_IN) == []


def test_viewer_reads_only_and_another_businesss_appointment_is_not_found(app_client, texting, business, clock, ports):
    appointment = _book(texting, clock, TUESDAY_10, OPTED_IN, "Ana Lopez")
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    page, token = _form(app_client, appointment.id)
    assert page.status_code == 200 and "Cancel appointment" not in page.text
    assert app_client.post(f"/appointments/{appointment.id}/cancel", data={"csrf_token": token}).status_code == 403
    assert sign_in(app_client, "owner@other.example").status_code == 302
    assert app_client.get(f"/appointments/{appointment.id}").status_code == 404
    token = csrf_of(app_client.get("/appointments").text)
    assert app_client.post(f"/appointments/{appointment.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert texting.get(f"appointments/{appointment.id}")["status"] == "booked" and other.tenant_id
