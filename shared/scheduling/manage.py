"""Appointments as the business manages them: upcoming and past, a week, cancel, reschedule.

* **Lists are bounded**: upcoming (start >= now, earliest first) and past (latest first) read
  at most :data:`LIST_LIMIT`; a week reads that week's appointments (one range on ``start``:
  the single-field index, no composite index).
* **Cancel** marks the appointment ``cancelled`` and frees its slot lock in one transaction;
  **reschedule** moves it to another slot the business offers right now (the same rules the
  AI agent books by: ``slots.find_offered``, its own old time not counted as busy), creating the
  new lock and freeing the old one in one transaction, so no slot is ever booked twice.
* **The caller is told by text only through the one send gate** (``purpose="notification"``,
  ``source`` = the appointment and the change): a caller who has not opted in, or is in quiet
  hours, is not texted, and the page says why. The same change retried is one text.
* Each change is in the audit log (who, which appointment, old and new time; no name or number).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.accounts import audit
from shared.accounts.errors import Conflict, InvalidInput, NotFound
from shared.accounts.principal import Principal
from shared.ports import Ports
from shared.scheduling import slots as S
from shared.scheduling.appointments import APPOINTMENTS, SLOT_LOCKS, Appointment, _intervals, closed_dates
from shared.sms.gate import SendResult, send_sms
from shared.tenants import TenantScope

LIST_LIMIT = 100


@dataclass(frozen=True)
class Change:
    appointment: Appointment
    text: SendResult | None  # None: no number to text


def upcoming(scope: TenantScope, now: dt.datetime, limit: int = LIST_LIMIT) -> list[Appointment]:
    query = scope.collection(APPOINTMENTS).where("start", ">=", now).order_by("start").page(limit)
    return [Appointment.from_doc(d.data) for d in scope.query(query)]


def past(scope: TenantScope, now: dt.datetime, limit: int = LIST_LIMIT) -> list[Appointment]:
    query = scope.collection(APPOINTMENTS).where("start", "<", now).order_by("start", "desc").page(limit)
    return [Appointment.from_doc(d.data) for d in scope.query(query)]


def week(scope: TenantScope, monday: dt.date) -> dict[dt.date, list[Appointment]]:
    """The seven local days from ``monday`` with their appointments, in time order."""
    zone = scope.tenant().zone
    first = dt.datetime.combine(monday, dt.time(0), zone).astimezone(dt.timezone.utc)
    last = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), zone).astimezone(dt.timezone.utc)
    query = scope.collection(APPOINTMENTS).where("start", ">=", first).where("start", "<", last).order_by("start")
    days: dict[dt.date, list[Appointment]] = {monday + dt.timedelta(days=i): [] for i in range(7)}
    for doc in scope.query(query):
        appointment = Appointment.from_doc(doc.data)
        days.setdefault(appointment.start.astimezone(zone).date(), []).append(appointment)
    return days


def _get(scope: TenantScope, appointment_id: str) -> Appointment:
    try:
        data = scope.get(f"{APPOINTMENTS}/{appointment_id}")
    except ValueError:
        data = None
    if data is None:
        raise NotFound("No such appointment.")
    return Appointment.from_doc(data)


def get(ports: Ports, tenant_id: str, appointment_id: str) -> Appointment:
    return _get(TenantScope(ports.store(), tenant_id), appointment_id)


def _tell(ports: Ports, scope: TenantScope, appointment: Appointment, body: str, source: str) -> SendResult | None:
    if not appointment.customer_phone:
        return None
    return send_sms(ports, scope, appointment.customer_phone, body, purpose="notification", source=source)


def cancel(ports: Ports, actor: Principal, appointment_id: str, *, ip: str = "", user_agent: str = "") -> Change:
    scope, now = TenantScope(ports.store(), actor.tenant_id), ports.clock().now()
    _get(scope, appointment_id)

    def attempt(tx) -> Appointment:
        data = tx.get(f"{APPOINTMENTS}/{appointment_id}")
        current = Appointment.from_doc(data) if data else None
        if current is None:
            raise NotFound("No such appointment.")
        if current.status == "cancelled":
            return current
        lock = tx.get(f"{SLOT_LOCKS}/{current.slot_key}")
        tx.update(f"{APPOINTMENTS}/{appointment_id}", {"status": "cancelled", "cancelled_at": now})
        if lock is not None and lock.get("appointment_id") == appointment_id:
            tx.delete(f"{SLOT_LOCKS}/{current.slot_key}")
        return current.model_copy(update={"status": "cancelled", "cancelled_at": now})

    appointment = scope.transaction(attempt)
    audit.record(ports.store(), now, tenant_id=actor.tenant_id, action="appointment.cancelled",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=appointment_id)
    business = (scope.get("") or {}).get("name") or "We"
    text = _tell(ports, scope, appointment, f"{business}: your appointment on {appointment.label} is cancelled. "
                 "Call us to book a new time. Reply STOP to opt out.", f"appt-cancel-{appointment_id}")
    return Change(appointment, text)


def reschedule(ports: Ports, actor: Principal, appointment_id: str, new_start: str, *, ip: str = "",
               user_agent: str = "") -> Change:
    """Move a booked appointment to ``new_start`` (ISO 8601; without an offset: the business's
    local time), which must be a slot the business offers now."""
    scope, now = TenantScope(ports.store(), actor.tenant_id), ports.clock().now()
    tenant = scope.tenant()
    zone, settings = tenant.zone, tenant.settings.scheduling
    before = _get(scope, appointment_id)
    if before.status != "booked":
        raise Conflict("This appointment is cancelled.")
    try:
        start = S.parse_start(new_start, zone, now=now)
    except ValueError:
        raise InvalidInput("Choose a new date and time.", field="start") from None
    key = S.slot_key(start)
    closed = closed_dates(tenant)

    def attempt(tx) -> Appointment:
        data = tx.get(f"{APPOINTMENTS}/{appointment_id}")
        current = Appointment.from_doc(data) if data else None
        if current is None:
            raise NotFound("No such appointment.")
        if current.status != "booked":
            raise Conflict("This appointment is cancelled.")
        if current.slot_key == key:
            return current
        lock = tx.get(f"{SLOT_LOCKS}/{key}")
        old_lock = tx.get(f"{SLOT_LOCKS}/{current.slot_key}")
        window = dt.timedelta(days=1) + settings.buffer
        nearby = tx.query(scope.collection(APPOINTMENTS).where("start", ">=", start - window)
                          .where("start", "<", start + window).order_by("start"))
        booked = _intervals([d for d in nearby if d.id != appointment_id])
        if lock is not None:
            raise Conflict("That time is already booked.")
        slot = S.find_offered(settings, zone, now, start, booked=booked, closed=closed)
        if slot is None:
            raise InvalidInput("That time is not one the business offers (closed, taken, too soon or too far).",
                               field="start")
        moved = current.model_copy(update={"start": slot.start, "end": slot.end, "slot_key": key,
                                           "label": S.describe(slot.start, zone), "rescheduled_at": now})
        tx.create(f"{SLOT_LOCKS}/{key}", {"appointment_id": appointment_id, "start": slot.start, "end": slot.end,
                                          "created_at": now})
        tx.update(f"{APPOINTMENTS}/{appointment_id}", {"start": slot.start, "end": slot.end, "slot_key": key,
                                                       "label": moved.label, "rescheduled_at": now})
        if old_lock is not None and old_lock.get("appointment_id") == appointment_id:
            tx.delete(f"{SLOT_LOCKS}/{current.slot_key}")
        return moved

    appointment = scope.transaction(attempt)
    if appointment.slot_key == before.slot_key:
        return Change(appointment, None)
    audit.record(ports.store(), now, tenant_id=actor.tenant_id, action="appointment.rescheduled",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=appointment_id,
                 changes={"start": {"old": before.start.isoformat(), "new": appointment.start.isoformat()}})
    business = (scope.get("") or {}).get("name") or "We"
    text = _tell(ports, scope, appointment, f"{business}: your appointment moved from {before.label} to "
                 f"{appointment.label}. Reply STOP to opt out.", f"appt-move-{appointment_id}-{key}")
    return Change(appointment, text)
