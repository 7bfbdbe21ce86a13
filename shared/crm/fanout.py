"""The fan-out of one domain event to a business's CRM endpoints: one delivery log entry
(``tenants/{t}/crm_deliveries/{delivery_id}``, kept :data:`KEEP`) and one ``crm_push`` task per
endpoint that takes the event. Idempotent per (endpoint, event): the delivery id and the first
task's name derive from both, so a redelivered event queues nothing twice. No Cipher here: the
functions that emit events hold no KMS grant."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from shared.crm.endpoints import EVENT_TYPES, Endpoint, list_endpoints
from shared.models.base import Message
from shared.ports import Ports
from shared.tenants import TenantScope

DELIVERIES = "crm_deliveries"
KEEP = dt.timedelta(days=90)


class CrmPushTask(Message):
    tenant_id: str
    endpoint_id: str
    delivery_id: str
    event_type: str
    attempt: int = 0
    body: str  # the JSON payload, byte for byte what is signed and sent


def delivery_id(endpoint_id: str, event_type: str, event_key: str) -> str:
    return "wd_" + hashlib.sha256(f"{endpoint_id}\n{event_type}\n{event_key}".encode()).hexdigest()[:32]


def message_id(delivery: str) -> str:
    return "msg_" + delivery.removeprefix("wd_")


def task_name(delivery: str, attempt: int) -> str:
    return f"crm-{delivery.removeprefix('wd_')}-{attempt}"


def payload(event_type: str, tenant_id: str, occurred_at: dt.datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": event_type, "timestamp": occurred_at.astimezone(dt.timezone.utc).isoformat(),
                       "tenant_id": tenant_id, "data": data}, default=_json_default, separators=(",", ":"),
                      sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def emit(ports: Ports, tenant_id: str, event_type: str, *, event_key: str, occurred_at: dt.datetime,
         data: dict[str, Any]) -> int:
    """Queue ``event_type`` for every enabled endpoint of the business that takes it; returns how
    many deliveries were queued by this call (0 when none takes it, or all were queued before)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown CRM event {event_type}")
    endpoints = [e for e in list_endpoints(ports, tenant_id) if e.enabled and event_type in e.events]
    body = payload(event_type, tenant_id, occurred_at, data)
    queued = 0
    for endpoint in endpoints:
        queued += _queue(ports, endpoint, event_type, delivery_id(endpoint.id, event_type, event_key), body)
    return queued


def _queue(ports: Ports, endpoint: Endpoint, event_type: str, delivery: str, body: str) -> bool:
    now = ports.clock().now()
    TenantScope(ports.store(), endpoint.tenant_id).create(f"{DELIVERIES}/{delivery}", {
        "id": delivery, "endpoint_id": endpoint.id, "event_type": event_type, "webhook_id": message_id(delivery),
        "status": "pending", "attempts": 0, "last_status_code": None, "last_error": None, "created_at": now,
        "first_attempt_at": None, "last_attempt_at": None, "next_attempt_at": now, "delivered_at": None,
        "expire_at": now + KEEP})
    task = CrmPushTask(tenant_id=endpoint.tenant_id, endpoint_id=endpoint.id, delivery_id=delivery,
                       event_type=event_type, body=body)
    return ports.tasks().enqueue("crm_push", task.to_bytes(), name=task_name(delivery, 0)).created
