"""Our appointments as events in the business's Google Calendar.

The event id is derived from the tenant and our appointment id (:func:`event_id`, base32hex as
Google requires), so creating it is idempotent: a retried booking inserts the same id, which
Google answers 409 and :meth:`Calendar.insert` turns into an update. A cancelled appointment
deletes its event; a rescheduled one moves it (patch). The event id is kept on the appointment
(``calendar_event_id``), with ``calendar_synced_at``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from shared.integrations.paths import connection_path, is_connected
from shared.logging import get_logger
from shared.ports import Ports

if TYPE_CHECKING:
    from shared.scheduling.appointments import Appointment

log = get_logger("z3.calendar")
PROVIDER = "google_calendar"
SYNC_TIMEOUT = 3.0


def event_id(tenant_id: str, appointment_id: str) -> str:
    return hashlib.sha256(f"{tenant_id}:{appointment_id}".encode()).hexdigest()[:32]


def _body(tenant_id: str, appt: "Appointment") -> dict[str, Any]:
    lines = [f"Booked by phone with Z3 OS for {appt.customer_name}."]
    if appt.customer_phone:
        lines.append(f"Callback number: {appt.customer_phone}")
    if appt.reason:
        lines.append(f"Reason: {appt.reason}")
    return {"id": event_id(tenant_id, appt.id), "summary": f"{appt.customer_name or 'Appointment'} (Z3 OS)",
            "description": "\n".join(lines),
            "start": {"dateTime": appt.start.isoformat(), "timeZone": appt.time_zone},
            "end": {"dateTime": appt.end.isoformat(), "timeZone": appt.time_zone},
            "extendedProperties": {"private": {"z3_appointment_id": appt.id}}}


def sync(ports: Ports, tenant_id: str, appt: "Appointment", *, timeout: float = SYNC_TIMEOUT) -> str | None:
    """Create, move or delete the appointment's event; the event id, or None when the business
    has no calendar connected. Google down raises (``StoreUnavailable``)."""
    from shared.calendar import connect
    from shared.scheduling.appointments import APPOINTMENTS

    if not is_connected(ports.store().get(connection_path(tenant_id, PROVIDER))):
        return None
    eid = event_id(tenant_id, appt.id)
    if appt.status == "cancelled":
        connect.call(ports, tenant_id, lambda cal, cid: cal.delete(cid, eid, timeout=timeout), timeout=timeout)
    else:
        body = _body(tenant_id, appt)
        connect.call(ports, tenant_id, lambda cal, cid: cal.insert(cid, body, timeout=timeout), timeout=timeout)
    ports.store().update(f"tenants/{tenant_id}/{APPOINTMENTS}/{appt.id}",
                         {"calendar_event_id": eid, "calendar_synced_at": ports.clock().now()})
    return eid


def sync_quietly(ports: Ports, tenant_id: str, appt: "Appointment", *, timeout: float = SYNC_TIMEOUT) -> str | None:
    """:func:`sync`, a failure logged (the booking stands; ``calendar_synced_at`` stays unset
    and :func:`sync_pending` -- ``scripts/ops integrations calendar-sync`` -- repeats it)."""
    try:
        return sync(ports, tenant_id, appt, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - the caller's booking must not fail on Google
        log.warning("calendar event not synced", extra={"tenant_id": tenant_id, "appointment_id": appt.id,
                                                         "error": type(exc).__name__})
        return None


def sync_pending(ports: Ports, tenant_id: str) -> tuple[int, int]:
    """Write every appointment whose event was not written (or not since it changed) into the
    calendar. Returns (synced, failed); NotConnected when no calendar is connected."""
    from shared.integrations import connections
    from shared.scheduling.appointments import APPOINTMENTS, Appointment
    from shared.tenants import TenantScope

    connections.live(ports, tenant_id, PROVIDER)
    scope = TenantScope(ports.store(), tenant_id)
    synced = failed = 0
    for doc in scope.query(scope.collection(APPOINTMENTS)):  # the tenant's appointments; an operator's repair
        if doc.data.get("calendar_synced_at") is not None:
            continue
        if sync_quietly(ports, tenant_id, Appointment.from_doc(doc.data), timeout=10.0):
            synced += 1
        else:
            failed += 1
    return synced, failed
