"""Telling the business that QuickBooks refused a booking for good: one failure record per
appointment (``quickbooks_sync_failures/{appointment_id}``: kind, Intuit's status and fault code,
when) for Settings and ``scripts/ops integrations status``, and one email per appointment and
kind (the task name de-duplicates). No customer data in either: ids and codes."""

from __future__ import annotations

from shared.notifications import notify_business
from shared.ports import Ports
from shared.quickbooks.sync import SyncRefused
from shared.quickbooks.tasks import SyncRequest
from shared.tenants import TenantScope

FAILURES = "quickbooks_sync_failures"


def report_failure(ports: Ports, request: SyncRequest, exc: SyncRefused) -> None:
    now = ports.clock().now()
    # a refused change pull names no appointment: its one record is "changes" (the latest refusal)
    record = request.appointment_id or request.kind
    TenantScope(ports.store(), request.tenant_id).set(f"{FAILURES}/{record}", {
        "kind": request.kind, "status": exc.status, "code": exc.code, "at": now, "appointment_id": request.appointment_id})
    notify_business(ports, tenant_id=request.tenant_id, template="integration_sync_failed",
                    context={"provider_label": "QuickBooks Online", "kind": request.kind, "code": exc.code},
                    dedup_key=f"qbo-refused:{request.tenant_id}:{request.kind}:{request.appointment_id}")
