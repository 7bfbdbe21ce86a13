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
from shared.ports import Document, Ports
from shared.scheduling import slots as S
from shared.calendar import events as calendar_events
from shared.scheduling import appointments as A
from shared.scheduling.appointments import APPOINTMENTS, Appointment
from shared.sms.conversations import refusal_text
from shared.sms.gate import SendResult, send_sms
from shared.tenants import TenantScope

LIST_LIMIT = 100


@dataclass(frozen=True)
class Change:
    appointment: Appointment
    text: SendResult | None  # None: no text was tried (no number, or nothing changed)
    changed: bool = True  # False: it was cancelled already / already at that time

    def told(self) -> str:
        """Whether the caller was texted about the change, in words (the page and the API)."""
        if not self.changed:
            return "Nothing changed, so the caller was not texted again."
        if self.text is None:
            return "There is no number to text."
        if self.text.sent:
            return "The caller was texted."
        reason = self.text.reason.value if self.text.reason else None
        return "The caller was not texted. " + refusal_text(
            reason, self.text.retry_at, self.appointment.time_zone).replace("Not sent: ", "", 1).capitalize()


def upcoming(scope: TenantScope, now: dt.datetime, limit: int = LIST_LIMIT, *,
             after: Document | None = None) -> list[Appointment]:
    """``after``: the last appointment of the previous page (a cursor, as the store takes it)."""
    query = scope.collection(APPOINTMENTS).where("start", ">=", now).order_by("start").page(limit, after)
    return [Appointment.from_doc(d.data) for d in scope.query(query)]


def past(scope: TenantScope, now: dt.datetime, limit: int = LIST_LIMIT, *,
         after: Document | None = None) -> list[Appointment]:
    query = scope.collection(APPOINTMENTS).where("start", "<", now).order_by("start", "desc").page(limit, after)
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
    """Cancel (idempotent; the slot is freed), audit, update the business's calendar, tell the
    caller through the gate. The transaction is the booking module's own."""
    scope, now = TenantScope(ports.store(), actor.tenant_id), ports.clock().now()
    before = _get(scope, appointment_id)
    appointment = A.cancel(scope, appointment_id, now)
    if appointment is None:
        raise NotFound("No such appointment.")
    if before.status == "cancelled":
        return Change(appointment, None, changed=False)
    audit.record(ports.store(), now, tenant_id=actor.tenant_id, action="appointment.cancelled",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=appointment_id)
    calendar_events.sync_quietly(ports, actor.tenant_id, appointment)
    business = (scope.get("") or {}).get("name") or "We"
    text = _tell(ports, scope, appointment, f"{business}: your appointment on {appointment.label} is cancelled. "
                 "Call us to book a new time. Reply STOP to opt out.", f"appt-cancel-{appointment_id}")
    return Change(appointment, text)


def reschedule(ports: Ports, actor: Principal, appointment_id: str, new_start: str, *, ip: str = "",
               user_agent: str = "") -> Change:
    """Move a booked appointment to ``new_start`` (ISO 8601; without an offset: the business's
    local time), which must be a slot the business offers now (the booking module's transaction
    moves the slot lock); audit, calendar, a text to the caller through the gate."""
    scope, now = TenantScope(ports.store(), actor.tenant_id), ports.clock().now()
    tenant = scope.tenant()
    before = _get(scope, appointment_id)
    if before.status != "booked":
        raise Conflict("This appointment is cancelled.")
    try:
        start = S.parse_start(new_start, tenant.zone, now=now)
    except ValueError:
        raise InvalidInput("Choose a new date and time.", field="start") from None
    booking = A.reschedule(scope, tenant, now, appointment_id, start=start)
    if booking.status == "taken":
        raise Conflict("That time is already booked.")
    if booking.status == "not_offered" or booking.appointment is None:
        raise InvalidInput("That time is not one the business offers (closed, taken, too soon or too far).",
                           field="start")
    appointment = booking.appointment
    if booking.status == "already_booked":
        return Change(appointment, None, changed=False)
    key = appointment.slot_key
    audit.record(ports.store(), now, tenant_id=actor.tenant_id, action="appointment.rescheduled",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=appointment_id,
                 changes={"start": {"old": before.start.isoformat(), "new": appointment.start.isoformat()}})
    calendar_events.sync_quietly(ports, actor.tenant_id, appointment)
    business = (scope.get("") or {}).get("name") or "We"
    text = _tell(ports, scope, appointment, f"{business}: your appointment moved from {before.label} to "
                 f"{appointment.label}. Reply STOP to opt out.", f"appt-move-{appointment_id}-{key}")
    return Change(appointment, text)
