"""The grace task of a past-due subscription: one Cloud Task per episode (named by tenant and
``past_due_since``), due when the grace period ends; ``shared.billing.grace.check`` runs it."""

from __future__ import annotations

import hashlib

from pydantic import Field

from shared.billing import entitlements
from shared.billing.models import BillingRecord
from shared.models.base import Message
from shared.ports import Ports


class GraceCheck(Message):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    past_due_since: str  # ISO time of the episode


def schedule(ports: Ports, tenant_id: str, record: BillingRecord) -> bool:
    due = entitlements.grace_ends(ports.settings, record)
    if due is None or record.past_due_since is None:
        return False
    since = record.past_due_since.isoformat()
    name = "billing-grace-" + hashlib.sha256(f"{tenant_id}:{since}".encode()).hexdigest()[:32]
    message = GraceCheck(tenant_id=tenant_id, past_due_since=since)
    return ports.tasks().enqueue("billing_grace", message.to_bytes(), name=name, schedule_time=due).created


