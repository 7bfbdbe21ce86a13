"""Billable AI minutes, one usage record per call (``billing_usage``, on ``call.completed``).

Not billable (the anchors do not bill them either): a blocked caller (``route = rejected``), a
call that never reached the AI agent (no ``retell_call_id``), a call shorter than
:data:`MIN_SECONDS`, and a call the business marks as spam within :data:`SPAM_WINDOW`
(:func:`credit_spam`). Billable seconds are the agent's (Retell's duration), rounded up to whole
minutes.

A billable call is sent to Stripe as one meter event whose ``identifier`` is the call sid (and
the same ``Idempotency-Key``): Stripe keeps one event per identifier, so a redelivered
``call.completed`` or a retried worker never bills twice. The usage record is written first
(``reported_at`` empty), then the meter event, then ``reported_at``: a crash in between sends
the same identifier again. A business without a Stripe customer (still on the trial without a
subscription) gets its usage recorded but nothing sent (``no_customer``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from shared.billing.models import UsageRecord
from shared.billing.records import read_record
from shared.providers import stripe as stripe_provider
from shared.ports import Ports
from shared.tenants import TenantScope

MIN_SECONDS = 15
SPAM_WINDOW = dt.timedelta(days=7)
CANCEL_WINDOW = dt.timedelta(hours=23)  # Stripe cancels a meter event only within 24 h of receiving it


def assess(call: dict[str, Any]) -> tuple[bool, str, float]:
    """(billable, reason, seconds) for one call record."""
    if call.get("route") == "rejected" or call.get("route_reason") in ("blocked_caller", "anonymous_caller"):
        return False, "blocked_caller", 0.0
    if not call.get("retell_call_id"):
        return False, "not_ai", 0.0
    ms = call.get("retell_duration_ms")
    seconds = float(ms) / 1000 if isinstance(ms, (int, float)) and ms > 0 else float(call.get("duration") or 0)
    if seconds < MIN_SECONDS:
        return False, "too_short", seconds
    return True, "billable", seconds


def record_call_usage(ports: Ports, message: Any) -> UsageRecord | None:
    scope = TenantScope(ports.store(), message.tenant_id)
    call = scope.get(f"calls/{message.call_sid}")
    if call is None:
        return None  # nothing to bill for a call we do not have
    existing = scope.get(f"usage/{message.call_sid}")
    if existing and (existing.get("reported_at") or not existing.get("billable")):
        return UsageRecord.model_validate(existing)
    billable, reason, seconds = assess(call)
    ended = message.completed_at
    usage = UsageRecord(call_sid=message.call_sid, billable=billable, reason=reason, seconds=round(seconds, 1),
                        minutes=math.ceil(seconds / 60) if billable else 0, ended_at=ended,
                        period_key=f"{ended:%Y-%m}", meter_identifier=f"z3-call-{message.call_sid}" if billable else None)
    scope.set(f"usage/{message.call_sid}", usage.to_doc())
    if not billable:
        return usage
    record = read_record(scope)
    if not record.customer_id or record.customer_deleted:
        return usage.model_copy(update={"reason": "billable_no_customer"})
    client = stripe_provider.client(ports.settings)
    params = {"event_name": ports.settings.stripe_meter_event_name, "identifier": usage.meter_identifier,
              "timestamp": int(ended.timestamp()),
              "payload": {"stripe_customer_id": record.customer_id, "value": str(usage.minutes)}}
    try:
        stripe_provider.call(lambda: client.v1.billing.meter_events.create(
            params=params, options={"idempotency_key": usage.meter_identifier}))
    except stripe_provider.StripeRejected as exc:
        if "duplicate" not in (exc.code or ""):
            raise
    usage = usage.model_copy(update={"reported_at": ports.clock().now()})
    scope.update(f"usage/{message.call_sid}", {"reported_at": usage.reported_at})
    return usage


def credit_spam(ports: Ports, tenant_id: str, call_sid: str) -> str:
    """The business marked a call as spam: within 7 days of the call its minutes are not billed
    (the meter event is cancelled while Stripe still allows it). ``credited``, ``not_billed``,
    ``too_late`` or ``unknown_call``."""
    scope = TenantScope(ports.store(), tenant_id)
    doc = scope.get(f"usage/{call_sid}")
    if doc is None:
        return "unknown_call"
    usage = UsageRecord.model_validate(doc)
    now = ports.clock().now()
    if not usage.billable:
        return "not_billed"
    if usage.ended_at and now - usage.ended_at > SPAM_WINDOW:
        return "too_late"
    record = read_record(scope)
    if usage.reported_at and record.customer_id:
        if now - usage.reported_at > CANCEL_WINDOW:
            return "too_late"  # Stripe no longer cancels it; an operator credits by hand
        client = stripe_provider.client(ports.settings)
        stripe_provider.call(lambda: client.v1.billing.meter_event_adjustments.create(params={
            "event_name": ports.settings.stripe_meter_event_name, "type": "cancel",
            "cancel": {"identifier": usage.meter_identifier}}))
    scope.update(f"usage/{call_sid}", {"billable": False, "reason": "spam_credit", "credited_at": now})
    return "credited"
