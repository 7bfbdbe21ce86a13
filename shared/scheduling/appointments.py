"""Appointments: what is open, and booking one without ever booking a slot twice.

Documents (tenant-owned):

* ``appointments/{id}`` — :class:`Appointment`. The id is derived from the booking key
  (``{retell_call_id}:{slot}`` for the AI agent), so a retried booking finds its own
  appointment instead of making a second one.
* ``appointment_slots/{start}`` — the slot lock, ``{appointment_id, start, end, created_at}``,
  keyed by the start in UTC to the minute. It is *created* in the same transaction as the
  appointment: create-if-absent is what makes a double booking impossible, even when two
  callers ask for the same time at the same moment (the second transaction sees the lock, or
  its create fails and it re-reads and sees it). Inside the transaction the slot is also checked
  against the booked appointments around it (overlaps, buffer), so a changed slot length cannot
  stack two appointments either.

Appointments are account data: no ``expire_at`` (kept while the account is active).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Literal, Sequence

from pydantic import Field

from shared.models.base import Model
from shared.ports import AlreadyExists, Document
from shared.scheduling import slots as S

if TYPE_CHECKING:
    from shared.models.tenant import Tenant
    from shared.tenants import TenantScope

APPOINTMENTS = "appointments"
SLOT_LOCKS = "appointment_slots"
MAX_SLOT = dt.timedelta(hours=8)  # SchedulingSettings.slot_minutes' upper bound
# Appointments are read in chunks of days: the first answer usually needs two days.
CHUNK_DAYS = (2, 5, 7)  # then 7 at a time
Interval = tuple[dt.datetime, dt.datetime]


class Appointment(Model):
    id: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str
    label: str  # "Thursday, March 5 at 2:00 PM Mountain Time"
    slot_key: str
    status: Literal["booked", "cancelled"] = "booked"
    customer_name: str = Field(default="", max_length=200)
    customer_phone: str | None = None  # E.164
    reason: str = Field(default="", max_length=1000)
    source: Literal["ai_call", "dashboard"] = "ai_call"
    call_sid: str | None = None
    retell_call_id: str | None = None
    booking_key: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None
    rescheduled_at: dt.datetime | None = None
    calendar_event_id: str | None = None  # the Google Calendar event (shared.calendar.events)


@dataclass(frozen=True)
class Booking:
    status: Literal["booked", "already_booked", "taken", "not_offered", "disabled"]
    appointment: Appointment | None = None
    alternatives: list[S.Slot] = field(default_factory=list)


def appointment_id(booking_key: str) -> str:
    return "a_" + hashlib.sha256(booking_key.encode()).hexdigest()[:20]


def closed_dates(tenant: "Tenant") -> set[dt.date]:
    """The scheduling closed dates plus the holidays of the voice settings (when present)."""
    closed = set(tenant.settings.scheduling.closed_dates)
    voice = getattr(tenant.settings, "voice", None)
    closed.update(getattr(voice, "holidays", None) or [])
    return closed


def _booked_query(scope: "TenantScope", start: dt.datetime, end: dt.datetime):
    # One range filter on `start` (a single-field index, no composite index needed); cancelled
    # ones are dropped in code.
    return (scope.collection(APPOINTMENTS).where("start", ">=", start - MAX_SLOT).where("start", "<", end)
            .order_by("start"))


def _intervals(docs: list[Document]) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(d.data["start"], d.data["end"]) for d in docs if d.data.get("status", "booked") == "booked"]


def open_slots(scope: "TenantScope", tenant: "Tenant", now: dt.datetime, *, days: int | None = None,
               on: dt.date | None = None, also_busy: Sequence[Interval] = ()) -> list[S.Slot]:
    """The tenant's open slots (see ``slots.open_slots``), booked appointments removed."""
    return list(iter_open_slots(scope, tenant, now, days=days, on=on, also_busy=also_busy))


def span(tenant: "Tenant", now: dt.datetime, *, days: int | None = None,
         on: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The instants :func:`iter_open_slots` may offer slots between (for a calendar lookup)."""
    settings = tenant.settings.scheduling
    zone = tenant.zone
    today = S.local_today(now, zone)
    if on is not None and not S.in_horizon(settings, today, on):
        return now, now  # a date no slot is offered on (9999-12-31 would overflow below)
    first = on or today
    count = 1 if on else (settings.horizon_days if days is None else max(1, min(days, settings.horizon_days)))
    start = dt.datetime.combine(first, dt.time(0), zone).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(first + dt.timedelta(days=count), dt.time(0), zone).astimezone(dt.timezone.utc)
    return start - settings.buffer, end + settings.buffer


def iter_open_slots(scope: "TenantScope", tenant: "Tenant", now: dt.datetime, *, days: int | None = None,
                    on: dt.date | None = None, also_busy: Sequence[Interval] = ()) -> Iterator[S.Slot]:
    """Lazily, earliest first. Booked appointments are read a few days at a time, so a caller
    that needs the next few slots reads those days' appointments, not the whole horizon's.
    ``also_busy``: more intervals to keep free (the business's Google Calendar)."""
    settings = tenant.settings.scheduling
    if not settings.enabled:
        return
    zone = tenant.zone
    closed = closed_dates(tenant)
    today = S.local_today(now, zone)
    if on is not None:
        dates = [on] if S.in_horizon(settings, today, on) else []
    else:
        span = settings.horizon_days if days is None else max(0, min(days, settings.horizon_days))
        dates = [today + dt.timedelta(days=i) for i in range(span)]
    i = 0
    for size in itertools.chain(CHUNK_DAYS, itertools.repeat(CHUNK_DAYS[-1])):
        chunk = dates[i:i + size]
        i += size
        if not chunk:
            return
        first = dt.datetime.combine(chunk[0], dt.time(0), zone).astimezone(dt.timezone.utc)
        last = dt.datetime.combine(chunk[-1] + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.timezone.utc)
        booked = _intervals(scope.query(_booked_query(scope, first - settings.buffer, last + settings.buffer)))
        booked += also_busy
        for day in chunk:
            yield from S.iter_open_slots(settings, zone, now, booked=booked, closed=closed, on=day)


def book(scope: "TenantScope", tenant: "Tenant", now: dt.datetime, *, start: dt.datetime, booking_key: str,
         customer_name: str = "", customer_phone: str | None = None, reason: str = "", call_sid: str | None = None,
         retell_call_id: str | None = None, source: str = "ai_call", also_busy: Sequence[Interval] = ()) -> Booking:
    """Book the slot starting at ``start`` (aware). Idempotent per ``booking_key``.
    ``also_busy``: intervals the slot must not overlap besides our bookings (the calendar's)."""
    settings = tenant.settings.scheduling
    if not settings.enabled:
        return Booking("disabled")
    zone = tenant.zone
    key = S.slot_key(start)
    appt_id = appointment_id(booking_key)
    closed = closed_dates(tenant)

    def attempt(tx) -> Booking:
        existing = tx.get(f"{APPOINTMENTS}/{appt_id}")
        if existing is not None:
            return Booking("already_booked", Appointment.from_doc(existing))
        lock = tx.get(f"{SLOT_LOCKS}/{key}")
        if lock is not None:
            return Booking("taken")
        window = dt.timedelta(days=1) + settings.buffer
        booked = _intervals(tx.query(_booked_query(scope, start - window, start + window))) + list(also_busy)
        slot = S.find_offered(settings, zone, now, start, booked=booked, closed=closed)
        if slot is None:
            return Booking("not_offered")
        appointment = Appointment(
            id=appt_id, start=slot.start, end=slot.end, time_zone=tenant.time_zone, label=S.describe(slot.start, zone),
            slot_key=key, customer_name=customer_name, customer_phone=customer_phone, reason=reason, source=source,
            call_sid=call_sid, retell_call_id=retell_call_id, booking_key=booking_key, created_at=now)
        tx.create(f"{SLOT_LOCKS}/{key}", {"appointment_id": appt_id, "start": slot.start, "end": slot.end,
                                          "created_at": now})
        tx.create(f"{APPOINTMENTS}/{appt_id}", appointment.to_doc())
        return Booking("booked", appointment)

    return _settle(scope, tenant, now, start, attempt, also_busy)


def _settle(scope: "TenantScope", tenant: "Tenant", now: dt.datetime, start: dt.datetime, attempt,
            also_busy: Sequence[Interval]) -> Booking:
    """Run a booking transaction; a refused slot comes back with the nearest open ones."""
    try:
        result = scope.transaction(attempt)
    except AlreadyExists:
        # A concurrent booking created the lock (or this appointment) between our read and our
        # commit: read again; it now answers "taken" or "already_booked".
        result = scope.transaction(attempt)
    if result.status in ("taken", "not_offered"):
        nearby = (open_slots(scope, tenant, now, on=start.astimezone(tenant.zone).date(), also_busy=also_busy)
                  or open_slots(scope, tenant, now, also_busy=also_busy))
        return Booking(result.status, alternatives=nearest(nearby, start, 3))
    return result


def nearest(slots: list[S.Slot], start: dt.datetime, n: int) -> list[S.Slot]:
    """The ``n`` open slots closest in time to ``start``, in time order."""
    return sorted(sorted(slots, key=lambda s: abs((s.start - start).total_seconds()))[:n])


def appointments_for_call(scope: "TenantScope", call_sid: str) -> list[Appointment]:
    docs = scope.query(scope.collection(APPOINTMENTS).where("call_sid", "==", call_sid))
    return sorted((Appointment.from_doc(d.data) for d in docs), key=lambda a: a.start)


def get(scope: "TenantScope", appointment_id: str) -> Appointment | None:
    data = scope.get(f"{APPOINTMENTS}/{appointment_id}")
    return Appointment.from_doc(data) if data is not None else None


def cancel(scope: "TenantScope", appointment_id: str, now: dt.datetime | None = None) -> Appointment | None:
    """Cancel the appointment and free its slot (idempotent); None when there is no such one."""
    path = f"{APPOINTMENTS}/{appointment_id}"

    def attempt(tx) -> Appointment | None:
        data = tx.get(path)
        if data is None:
            return None
        appt = Appointment.from_doc(data)
        if appt.status == "booked":
            lock = tx.get(f"{SLOT_LOCKS}/{appt.slot_key}")
            if lock is not None and lock.get("appointment_id") == appt.id:
                tx.delete(f"{SLOT_LOCKS}/{appt.slot_key}")
            tx.update(path, {"status": "cancelled", "calendar_synced_at": None, "cancelled_at": now})
            appt = appt.model_copy(update={"status": "cancelled", "cancelled_at": now})
        return appt

    return scope.transaction(attempt)


def reschedule(scope: "TenantScope", tenant: "Tenant", now: dt.datetime, appointment_id: str, *,
               start: dt.datetime, also_busy: Sequence[Interval] = ()) -> Booking:
    """Move a booked appointment to the open slot at ``start`` (its old slot is freed in the same
    transaction); ``taken``/``not_offered`` with nearby alternatives as :func:`book` answers."""
    settings = tenant.settings.scheduling
    zone = tenant.zone
    key = S.slot_key(start)
    path = f"{APPOINTMENTS}/{appointment_id}"

    def attempt(tx) -> Booking:
        data = tx.get(path)
        if data is None or data.get("status") != "booked":
            return Booking("not_offered")
        appt = Appointment.from_doc(data)
        if appt.slot_key == key:
            return Booking("already_booked", appt)
        if tx.get(f"{SLOT_LOCKS}/{key}") is not None:
            return Booking("taken")
        window = dt.timedelta(days=1) + settings.buffer
        booked = [(d.data["start"], d.data["end"]) for d in tx.query(_booked_query(scope, start - window, start + window))
                  if d.data.get("status", "booked") == "booked" and d.id != appt.id] + list(also_busy)
        slot = S.find_offered(settings, zone, now, start, booked=booked, closed=closed_dates(tenant))
        if slot is None:
            return Booking("not_offered")
        moved = appt.model_copy(update={"start": slot.start, "end": slot.end, "slot_key": key,
                                        "label": S.describe(slot.start, zone)})
        tx.delete(f"{SLOT_LOCKS}/{appt.slot_key}")
        tx.create(f"{SLOT_LOCKS}/{key}", {"appointment_id": appt.id, "start": slot.start, "end": slot.end,
                                          "created_at": now})
        moved = moved.model_copy(update={"rescheduled_at": now})
        tx.update(path, {"start": slot.start, "end": slot.end, "slot_key": key, "label": moved.label,
                         "calendar_synced_at": None, "rescheduled_at": now})
        return Booking("booked", moved)

    return _settle(scope, tenant, now, start, attempt, also_busy)
