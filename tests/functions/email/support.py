"""Helpers for the email tests: the seeded business, notification tasks, signed Resend webhooks."""

from __future__ import annotations

import json
from typing import Any

from shared.models.tenant import Role
from shared.notifications import NotifyRequest
from shared.tenants import TenantScope, add_user, create_tenant

TENANT = "t_sunrise"
OWNER = "dana@sunrise.example"
ADMIN = "lee@sunrise.example"
STAFF = "sam@sunrise.example"
DISABLED = "old-admin@sunrise.example"


def seed_business(ports, tenant_id: str = TENANT, *, marketing: bool = False) -> TenantScope:
    store = ports.store()
    create_tenant(store, tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana Rivera",
                  contact_email=OWNER, time_zone="America/Denver", numbers=["+13035550100"])
    add_user(store, tenant_id, email=ADMIN, role=Role.admin, name="Lee Park")
    add_user(store, tenant_id, email=STAFF, role=Role.staff, name="Sam Staff")
    disabled = add_user(store, tenant_id, email=DISABLED, role=Role.admin, name="Former Admin")
    scope = TenantScope(store, tenant_id)
    scope.update(f"users/{disabled.id}", {"status": "disabled"})
    if marketing:
        store.update(scope.root, {"settings.marketing_email_opt_in": True})
    return scope


def task(template: str = "call_summary", *, dedup_key: str = "call_summary:CA1", tenant_id: str = TENANT,
         context: dict[str, Any] | None = None, **fields: Any) -> bytes:
    return NotifyRequest(tenant_id=tenant_id, template=template, dedup_key=dedup_key,
                         context=context if context is not None else CALL_CONTEXT, **fields).to_bytes()


def post_task(client, body: bytes, *, name: str = "notify-test"):
    from tests.functions.local import worker_headers

    return client("notify").post("/", data=body, headers=worker_headers("notify", body, {
        "X-CloudTasks-TaskName": name, "X-CloudTasks-QueueName": "z3-default"}))


def post_webhook(client, hook) -> Any:
    """Deliver one sandbox webhook (already signed) to ``email_events``."""
    return client("email_events").post("/", data=hook.body, headers=hook.headers)


def deliver_webhooks(client, resend) -> list[int]:
    return [post_webhook(client, hook).status_code for hook in resend.take_webhooks()]


def emails(scope: TenantScope) -> list[dict[str, Any]]:
    return [d.data for d in scope.query(scope.collection("emails"))]


def body(response) -> Any:
    return json.loads(response.get_data())


CALL_CONTEXT: dict[str, Any] = {
    "business_name": "Sunrise Plumbing", "call_sid": "CA1", "caller_name": "Jordan <b>Lee</b>",
    "caller_number": "+13035550142", "started_local": "Monday, March 2 at 11:05 AM MST", "duration_seconds": 184,
    "answered_by": "AI receptionist", "summary": "Water heater leaking <script>alert(1)</script>; booked a visit.",
    "sentiment": "Neutral", "success": True, "actions": ["Booked an appointment"],
    "appointments": ["Thursday, March 5 at 2:00 PM"],
    "messages": [{"name": "Jordan", "callback_number": "+13035550142", "message": "Please call back", "urgent": False}],
    "has_recording": True, "has_transcript": True,
}
