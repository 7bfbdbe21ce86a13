"""The grace period of a past-due subscription: one Cloud Task per episode, due when the grace
ends (``billing_grace``). If the subscription is still past due then (the same episode: the same
``past_due_since``), the business is suspended; paid meanwhile, the task finds nothing to do."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import Field

from shared.billing import entitlements
from shared.billing.models import BillingRecord
from shared.models.base import Message
from shared.runtime import Ports


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


def check(ports: Ports, message: GraceCheck) -> str:
    """``suspended``, ``not_due`` (early delivery: retry), or ``settled`` (paid or another episode)."""
    from shared.billing.events import write_record
    from shared.tenants import TenantScope

    scope = TenantScope(ports.store(), message.tenant_id)
    doc = scope.get("billing/record")
    record = BillingRecord.model_validate(doc) if doc else None
    if record is None or record.status != "past_due" or record.past_due_since is None \
            or record.past_due_since.isoformat() != message.past_due_since:
        return "settled"
    ends = entitlements.grace_ends(ports.settings, record)
    if ends and ports.clock().now() < ends:
        return "not_due"
    write_record(ports, scope, lambda r: r, reason="past due beyond the grace period", force="suspend")
    return "suspended"
