"""The ``quickbooks_sync`` task: its body and the one place that queues it for bookings.

Kept apart from the sync itself so the functions that only queue (``call_completed``,
``quickbooks_webhook``) import neither the Intuit client nor its secret. Task names are derived
from what they sync, so a redelivered event queues nothing twice."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Literal

from shared.integrations.paths import connection_path, is_connected
from shared.models.base import Message
from shared.ports import Ports

if TYPE_CHECKING:
    from shared.scheduling.appointments import Appointment

PROVIDER = "quickbooks"
INVOICE_AFTER = dt.timedelta(minutes=5)  # after the appointment's end


class SyncRequest(Message):
    VERSION = 1
    tenant_id: str
    kind: Literal["customer", "invoice", "changes"]
    appointment_id: str = ""  # customer, invoice


def task_name(tenant_id: str, kind: str, key: str) -> str:
    return "qbo-" + hashlib.sha256(f"{tenant_id}:{kind}:{key}".encode()).hexdigest()[:40]


def queue(ports: Ports, request: SyncRequest, *, key: str, at: dt.datetime | None = None) -> bool:
    return ports.tasks().enqueue("quickbooks_sync", request.to_bytes(), name=task_name(request.tenant_id, request.kind, key),
                                 schedule_time=at).created


def queue_for_appointments(ports: Ports, tenant_id: str, appointments: list["Appointment"]) -> int:
    """For a connected business: the customer now and the invoice after the appointment's end.
    Returns the tasks created (0 when not connected or already queued)."""
    data = ports.store().get(connection_path(tenant_id, PROVIDER))
    if not is_connected(data):
        return 0
    created = 0
    for appointment in appointments:
        for kind, at in (("customer", None), ("invoice", appointment.end + INVOICE_AFTER)):
            request = SyncRequest(tenant_id=tenant_id, kind=kind, appointment_id=appointment.id)
            created += queue(ports, request, key=appointment.id, at=at)
    return created
