"""The grace period of a past-due subscription: one Cloud Task per episode, due when the grace
ends (``billing_grace``). If the subscription is still past due then (the same episode: the same
``past_due_since``), the business is suspended; paid meanwhile, the task finds nothing to do."""

from __future__ import annotations

from shared.billing import entitlements
from shared.billing.events import write_record
from shared.billing.grace_task import GraceCheck, schedule
from shared.billing.models import BillingRecord
from shared.ports import Ports
from shared.tenants import TenantScope

__all__ = ["GraceCheck", "check", "schedule"]


def check(ports: Ports, message: GraceCheck) -> str:
    """``suspended``, ``not_due`` (early delivery: retry), or ``settled`` (paid or another episode)."""
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
