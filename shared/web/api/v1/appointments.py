"""``/appointments``: the Appointments pages' twin. Upcoming or past (paged), a week, one
appointment with the times it can move to, cancel and reschedule through
:mod:`shared.scheduling.manage` (slot locks, audit, calendar; the caller is texted only through
the send gate, and the answer says whether and why not).

Times are ISO 8601 in the business's time zone. The caller's number is not in the answer (the
pages do not show it either): ``number_id`` names it, as ``/numbers/{number_id}/consent`` does."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts import permissions
from shared.contacts import ids
from shared.scheduling import manage
from shared.scheduling.appointments import APPOINTMENTS, Appointment, iter_open_slots
from shared.tenants import TenantScope
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.models import ID
from shared.web.api.v1.routes import blueprint

OFFERED = 40  # open times listed for a reschedule (the page offers as many)


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


class AppointmentOut(BaseModel):
    id: str
    start: dt.datetime = Field(description="in the business's time zone")
    end: dt.datetime
    time_zone: str = Field(description="the business's time zone, which the times are in")
    label: str = Field(description='"Thursday, March 5 at 2:00 PM Mountain Time"')
    status: Literal["booked", "cancelled"]
    customer_name: str
    number_id: str | None = Field(description="the caller's number as an id (never the number itself)")
    reason: str
    source: Literal["ai_call", "dashboard"] = Field(description="booked by the AI receptionist or on the dashboard")
    call_sid: str | None = Field(description="the call it was booked on: /calls/{call_sid}")
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    rescheduled_at: dt.datetime | None

    @classmethod
    def of(cls, appointment: Appointment, codec: ids.NumberIds, zone: ZoneInfo) -> "AppointmentOut":
        def local(at: dt.datetime | None) -> dt.datetime | None:
            return at.astimezone(zone) if at else None

        phone = appointment.customer_phone
        return cls(id=appointment.id, start=local(appointment.start), end=local(appointment.end),
                   time_zone=zone.key, label=appointment.label, status=appointment.status,
                   customer_name=appointment.customer_name, number_id=codec.id(phone) if phone else None,
                   reason=appointment.reason, source=appointment.source, call_sid=appointment.call_sid,
                   created_at=local(appointment.created_at), cancelled_at=local(appointment.cancelled_at),
                   rescheduled_at=local(appointment.rescheduled_at))


class AppointmentQuery(PageQuery):
    when: Literal["upcoming", "past"] = Field(default="upcoming",
                                              description="upcoming: earliest first; past: latest first")


@operation(blueprint, "GET", "/appointments", action="appointments.read",
           summary="Upcoming appointments (earliest first) or past ones (latest first)",
           response=Page[AppointmentOut], query=AppointmentQuery)
def list_appointments(query: AppointmentQuery) -> Page[AppointmentOut]:
    scope, now = _scope(), auth.now()
    after = pagination.decode(query.cursor, scope.path(APPOINTMENTS), "start") if query.cursor else None
    listed = manage.upcoming if query.when == "upcoming" else manage.past
    found = listed(scope, now, query.limit + 1, after=after)
    more, found = len(found) > query.limit, found[: query.limit]
    codec, zone = ids.NumberIds(scope), scope.tenant().zone
    return Page[AppointmentOut](items=[AppointmentOut.of(a, codec, zone) for a in found],
                                next_cursor=pagination.encode(found[-1].start, found[-1].id) if more else None)


class WeekQuery(BaseModel):
    # A parameter the week does not take is refused rather than ignored (no pages here).
    model_config = ConfigDict(extra="forbid")

    start: dt.date | None = Field(default=None, ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31),
                                  description="a day of the week to show (YYYY-MM-DD; default: today in the "
                                              "business's time zone); the week starts on its Monday")


class DayOut(BaseModel):
    date: dt.date
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    appointments: list[AppointmentOut] = Field(description="in time order, cancelled ones included")


class WeekOut(BaseModel):
    start: dt.date = Field(description="the Monday")
    previous: dt.date = Field(description="the Monday before: ?start= for the previous week")
    next: dt.date
    time_zone: str
    days: list[DayOut] = Field(description="Monday to Sunday")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@operation(blueprint, "GET", "/appointments/week", action="appointments.read",
           summary="One week's days (Monday to Sunday, the business's time zone) with their appointments",
           response=WeekOut, query=WeekQuery)
def week_of_appointments(query: WeekQuery) -> WeekOut:
    scope = _scope()
    tenant = scope.tenant()
    day = query.start or auth.now().astimezone(tenant.zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    codec = ids.NumberIds(scope)
    days = manage.week(scope, monday)
    return WeekOut(start=monday, previous=monday - dt.timedelta(days=7), next=monday + dt.timedelta(days=7),
                   time_zone=tenant.time_zone,
                   days=[DayOut(date=date, weekday=WEEKDAYS[date.weekday()],
                                appointments=[AppointmentOut.of(a, codec, tenant.zone) for a in items])
                         for date, items in sorted(days.items())])


class SlotOut(BaseModel):
    start: dt.datetime
    end: dt.datetime


class AppointmentDetail(AppointmentOut):
    open_times: list[SlotOut] | None = Field(
        description="the next open times it can move to (a start for POST .../reschedule); null without "
                    "appointments.manage or when it is cancelled")


@operation(blueprint, "GET", "/appointments/<appointment_id>", action="appointments.read",
           summary="One appointment, with the times it can be moved to", response=AppointmentDetail,
           path_params={"appointment_id": ID})
def get_appointment(appointment_id: str) -> AppointmentDetail:
    principal, scope, now = auth.principal(), _scope(), auth.now()
    appointment = manage.get(auth.ports(), principal.tenant_id, appointment_id)
    tenant, open_times = scope.tenant(), None
    if appointment.status == "booked" and permissions.can(principal, "appointments.manage"):
        open_times = [SlotOut(start=s.start.astimezone(tenant.zone), end=s.end.astimezone(tenant.zone))
                      for s in itertools.islice(iter_open_slots(scope, tenant, now), OFFERED)]
    return AppointmentDetail(**AppointmentOut.of(appointment, ids.NumberIds(scope), tenant.zone).model_dump(),
                             open_times=open_times)


class CallerTextOut(BaseModel):
    sent: bool = Field(description="the caller was texted about this change (now, or by an earlier identical "
                                   "request)")
    reason: Literal["unchanged", "no_number", "not_opted_in", "opted_out", "quiet_hours", "invalid_number",
                    "tenant_not_in_service", "provider_rejected"] | None = Field(
        description="why not: unchanged (nothing changed), no_number, or the send gate's refusal")
    retry_at: dt.datetime | None = Field(description="quiet hours: the next time a text may go out")
    message: str = Field(description="the same, in words")


class ChangeOut(BaseModel):
    appointment: AppointmentOut
    caller_text: CallerTextOut


def _change(change: manage.Change) -> ChangeOut:
    text = change.text
    if not change.changed:
        reason: str | None = "unchanged"
    elif text is None:
        reason = "no_number"
    else:
        reason = None if text.sent else (text.reason.value if text.reason else "provider_rejected")
    scope = _scope()
    return ChangeOut(appointment=AppointmentOut.of(change.appointment, ids.NumberIds(scope), scope.tenant().zone),
                     caller_text=CallerTextOut(sent=bool(text and text.sent), reason=reason,
                                               retry_at=text.retry_at if text and not text.sent else None,
                                               message=change.told()))


@operation(blueprint, "POST", "/appointments/<appointment_id>/cancel", action="appointments.manage",
           summary="Cancel an appointment (its time is freed; the caller is texted if they opted in)",
           response=ChangeOut, path_params={"appointment_id": ID}, errors=(409,))
def cancel_appointment(appointment_id: str) -> ChangeOut:
    info = auth.client()
    return _change(manage.cancel(auth.ports(), auth.principal(), appointment_id, ip=info.ip,
                                 user_agent=info.user_agent))


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(min_length=1, max_length=40, examples=["2026-03-03T14:00"],
                       description="ISO 8601; without an offset: the business's local time. One of the open "
                                   "times GET /appointments/{appointment_id} lists")


@operation(blueprint, "POST", "/appointments/<appointment_id>/reschedule", action="appointments.manage",
           summary="Move an appointment to another open time (the caller is texted if they opted in)",
           response=ChangeOut, body=RescheduleIn, path_params={"appointment_id": ID}, errors=(409,))
def reschedule_appointment(appointment_id: str, body: RescheduleIn) -> ChangeOut:
    info = auth.client()
    return _change(manage.reschedule(auth.ports(), auth.principal(), appointment_id, body.start, ip=info.ip,
                                     user_agent=info.user_agent))
