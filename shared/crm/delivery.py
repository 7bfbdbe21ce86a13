"""CRM deliveries: each attempt ``crm_push`` makes (the fan-out that queues them is
:mod:`shared.crm.fanout`). The log is ``tenants/{t}/crm_deliveries/{delivery_id}`` (status, attempts,
last response code, times; never the payload), kept :data:`KEEP`.

Rules:

* :func:`shared.crm.fanout.emit` is idempotent per (endpoint, event): the delivery id and the first task's name
  derive from both, so a redelivered event queues nothing twice.
* The payload travels in the task (``CrmPushTask.body``, the same bytes on every attempt) and is
  signed per Standard Webhooks on every attempt, with the same ``webhook-id``.
* A 2xx acknowledges. Anything else (an error status, a 3xx, no answer, an address refused by
  :mod:`shared.crm.urls`) is a failed attempt: the next one is queued as its own task after
  :func:`backoff` (30 s doubling, at most 4 h), until 24 hours after the first attempt; the last
  attempt is made at that mark, then the delivery is ``failed``.
* An endpoint whose failures have gone on for 24 hours with no success (``failing_since``) is
  disabled and the owner and admins emailed once; its queued deliveries are then ``skipped``.
* A task older than the delivery's progress (a redelivered attempt) does nothing; a store that
  cannot be read or written raises, so Cloud Tasks delivers the task again.
* Test events (:func:`send_test`) are sent at once, logged, and change neither the endpoint's
  health nor anything else.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from shared.crm import signing, transport
from shared.crm.endpoints import ENDPOINTS, TEST_EVENT, Endpoint, development, get_endpoint, set_enabled
from shared.crm.fanout import DELIVERIES, KEEP, CrmPushTask, delivery_id, message_id, payload, task_name
from shared.crm.setup import endpoint_secret
from shared.crm.urls import UnsafeEndpointUrl, check_url
from shared.logging import get_logger
from shared.ports import Document, Ports
from shared.tenants import TenantScope

log = get_logger("z3.crm")
RETRY_WINDOW = dt.timedelta(hours=24)
DISABLE_AFTER = dt.timedelta(hours=24)
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=4)
# a delivery's status: pending, retrying, delivered, failed or skipped


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    status: str
    attempts: int
    last_status_code: int | None = None

    def public(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "status": self.status, "attempts": self.attempts,
                "last_status_code": self.last_status_code}


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (0 is the first)."""
    return min(FIRST_DELAY * (2 ** min(attempt, 20)), MAX_DELAY)


def _send(ports: Ports, endpoint: Endpoint, delivery: str, body: str) -> transport.Answer:
    try:
        target = check_url(endpoint.url, development=development(ports))
    except UnsafeEndpointUrl as exc:
        return transport.Answer(status=None, error=exc.reason)
    secret = endpoint_secret(ports, endpoint.tenant_id, endpoint.id)
    raw = body.encode()
    timestamp = int(ports.clock().now().timestamp())
    return transport.post(target, raw, signing.headers(secret, message_id(delivery), timestamp, raw))


def attempt(ports: Ports, task: CrmPushTask) -> Outcome:
    """One attempt of one delivery (the ``crm_push`` task)."""
    scope = TenantScope(ports.store(), task.tenant_id)
    path = f"{DELIVERIES}/{task.delivery_id}"
    record = scope.get(path)
    if record is None:
        log.warning("CRM delivery no longer exists", extra={"tenant_id": task.tenant_id, "delivery_id": task.delivery_id})
        return Outcome(task.delivery_id, "gone", task.attempt)
    done = Outcome(task.delivery_id, record["status"], record["attempts"], record.get("last_status_code"))
    if record["status"] in ("delivered", "failed", "skipped") or record["attempts"] > task.attempt:
        return done  # finished, or this attempt was made already (a redelivered task)
    endpoint_doc = scope.get(f"{ENDPOINTS}/{task.endpoint_id}")
    now = ports.clock().now()
    if endpoint_doc is None or not endpoint_doc.get("enabled"):
        scope.update(path, {"status": "skipped", "last_error": "endpoint disabled or removed", "next_attempt_at": None})
        return Outcome(task.delivery_id, "skipped", record["attempts"], record.get("last_status_code"))
    endpoint = Endpoint.from_doc(task.tenant_id, endpoint_doc)
    answer = _send(ports, endpoint, task.delivery_id, task.body)
    first = record.get("first_attempt_at") or now
    patch: dict[str, Any] = {"attempts": task.attempt + 1, "last_status_code": answer.status,
                             "last_error": None if answer.ok else (answer.error or f"HTTP {answer.status}"),
                             "first_attempt_at": first, "last_attempt_at": now}
    if answer.ok:
        patch.update(status="delivered", delivered_at=now, next_attempt_at=None)
        _healthy(ports, endpoint, now)
    else:
        failing_since = _failing(ports, endpoint, now)
        if now - failing_since >= DISABLE_AFTER:
            _disable(ports, endpoint, failing_since, answer)
            patch.update(status="failed", next_attempt_at=None, last_error=patch["last_error"] + "; endpoint disabled")
        elif now >= first + RETRY_WINDOW:
            patch.update(status="failed", next_attempt_at=None)
        else:
            due = min(now + backoff(task.attempt), first + RETRY_WINDOW)
            ports.tasks().enqueue("crm_push", task.model_copy(update={"attempt": task.attempt + 1}).to_bytes(),
                                  name=task_name(task.delivery_id, task.attempt + 1), schedule_time=due)
            patch.update(status="retrying", next_attempt_at=due)
    scope.update(path, patch)
    log.info("CRM delivery attempt", extra={"tenant_id": task.tenant_id, "endpoint_id": endpoint.id,
                                            "delivery_id": task.delivery_id, "attempt": task.attempt + 1,
                                            "status_code": answer.status, "outcome": patch["status"] if "status" in patch
                                            else record["status"]})
    return Outcome(task.delivery_id, patch.get("status", record["status"]), task.attempt + 1, answer.status)


def _healthy(ports: Ports, endpoint: Endpoint, now: dt.datetime) -> None:
    TenantScope(ports.store(), endpoint.tenant_id).update(f"{ENDPOINTS}/{endpoint.id}", {
        "failing_since": None, "last_success_at": now})


def _failing(ports: Ports, endpoint: Endpoint, now: dt.datetime) -> dt.datetime:
    """The start of the endpoint's current run of failures (set now if it had none)."""
    scope = TenantScope(ports.store(), endpoint.tenant_id)
    path = f"{ENDPOINTS}/{endpoint.id}"

    def run(tx) -> dt.datetime:
        doc = tx.get(path) or {}
        since = doc.get("failing_since")
        if since is None:
            tx.update(path, {"failing_since": now, "last_failure_at": now})
            return now
        tx.update(path, {"last_failure_at": now})
        return since

    return scope.transaction(run)


def _disable(ports: Ports, endpoint: Endpoint, failing_since: dt.datetime, answer: transport.Answer) -> None:
    from shared.notifications import notify_business
    from urllib.parse import urlsplit

    notify_business(ports, tenant_id=endpoint.tenant_id, template="crm_endpoint_disabled",
                    dedup_key=f"crm_disabled:{endpoint.id}:{failing_since.isoformat()}", context={
                        "endpoint_id": endpoint.id, "endpoint_host": urlsplit(endpoint.url).hostname or "",
                        "description": endpoint.description, "failing_since": failing_since.isoformat(),
                        "last_status_code": answer.status, "last_error": answer.error})
    set_enabled(ports, endpoint.tenant_id, endpoint.id, False, reason="failing for 24 hours")
    log.warning("CRM endpoint disabled after 24 hours of failures", extra={
        "tenant_id": endpoint.tenant_id, "endpoint_id": endpoint.id})


def send_test(ports: Ports, tenant_id: str, endpoint_id: str) -> Outcome:
    """Send a ``webhook.test`` event to one endpoint now (enabled or not), log it, return the result."""
    endpoint = get_endpoint(ports, tenant_id, endpoint_id)
    now = ports.clock().now()
    delivery = delivery_id(endpoint.id, TEST_EVENT, secrets.token_hex(8))
    body = payload(TEST_EVENT, tenant_id, now, {"endpoint_id": endpoint.id, "message": "Test event from Z3 OS"})
    answer = _send(ports, endpoint, delivery, body)
    status = "delivered" if answer.ok else "failed"
    TenantScope(ports.store(), tenant_id).create(f"{DELIVERIES}/{delivery}", {
        "id": delivery, "endpoint_id": endpoint.id, "event_type": TEST_EVENT, "webhook_id": message_id(delivery),
        "status": status, "attempts": 1, "last_status_code": answer.status,
        "last_error": None if answer.ok else (answer.error or f"HTTP {answer.status}"), "created_at": now,
        "first_attempt_at": now, "last_attempt_at": now, "next_attempt_at": None,
        "delivered_at": now if answer.ok else None, "expire_at": now + KEEP})
    return Outcome(delivery, status, 1, answer.status)


def delivery_log(ports: Ports, tenant_id: str, endpoint_id: str, *, limit: int = 50,
                 after: Document | None = None) -> list[dict[str, Any]]:
    """The endpoint's deliveries, newest first (``after``: the last one of the previous page)."""
    get_endpoint(ports, tenant_id, endpoint_id)
    scope = TenantScope(ports.store(), tenant_id)
    docs = scope.query(scope.collection(DELIVERIES).where("endpoint_id", "==", endpoint_id)
                       .order_by("created_at", "desc").page(limit, after))
    keep = ("id", "event_type", "webhook_id", "status", "attempts", "last_status_code", "last_error", "created_at",
            "last_attempt_at", "next_attempt_at", "delivered_at")
    return [{key: d.get(key) for key in keep} for d in docs]
