"""Stripe's events (``stripe_events``): our billing record follows Stripe, whatever the order.

The signature is checked before this module sees the event (``shared.webhooks.stripe``). Then:

* **Which business**: the customer's id through ``stripe_customers/{cus}`` (we create every
  customer, and write that index before Stripe knows the customer). An event for a customer we
  do not know (another product on the same Stripe account) is acknowledged and logged.
* **Once per event**: ``webhook_events/stripe:{event.id}`` (``shared.idempotency.run_once``,
  because applying an event calls Stripe): a duplicate is a no-op; a failure removes the claim,
  so Stripe's retry does the work.
* **Never older over newer**: Stripe delivers out of order and duplicated for up to 3 days, and
  its objects carry no version. So an event is only a *signal*: we re-fetch the subscription,
  invoice or customer through the SDK and store what Stripe holds now (Stripe's own advice).
  An old ``past_due`` event that arrives after the payment therefore re-fetches an ``active``
  subscription. Two deliveries re-fetching at the same moment could still commit in the reverse
  order of their reads; each write also keeps ``synced_at`` (when its read began) and a write
  whose read began before the stored one's is dropped, which closes that window.
* Events that carry everything they need (``invoice.upcoming``, disputes) need no round trip.
* Unknown event types are acknowledged and logged (``ignored``), never 5xx.

Stripe down while re-fetching -> :class:`shared.providers.stripe.StripeUnavailable` -> 503 and
Stripe retries. Side effects (emails, the grace task) are named after the fact they report, so
a repeat queues nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.billing import entitlements, grace_task, notices
from shared.billing.models import BillingRecord
from shared.billing.records import (
    RECORD, apply_subscription, card_from_payment_method, customer_index, invoice_from_stripe, invoice_rel,
    invoice_subscription, read_record,
)
from shared.idempotency import run_once
from shared.logging import get_logger
from shared.providers import stripe as stripe_provider
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.webhooks import MalformedPayload

log = get_logger("z3.billing.events")
PROVIDER = "stripe"

SUBSCRIPTION_EVENTS = frozenset({
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
    "customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end"})
INVOICE_EVENTS = frozenset({"invoice.finalized", "invoice.paid", "invoice.payment_failed",
                            "invoice.payment_action_required"})
CARD_EVENTS = frozenset({"payment_method.attached", "payment_method.detached", "payment_method.updated",
                         "customer.updated"})
OTHER_EVENTS = frozenset({"checkout.session.completed", "invoice.upcoming", "customer.deleted", "charge.refunded",
                          "charge.dispute.created"})
HANDLED = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | CARD_EVENTS | OTHER_EVENTS
# Events that are applied from their own body (no Stripe round trip).
NO_FETCH = frozenset({"invoice.upcoming", "charge.dispute.created", "customer.deleted"})


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    object: dict[str, Any]
    created: int


def parse_event(payload: Any) -> StripeEvent:
    """The verified body as a :class:`StripeEvent`; :class:`MalformedPayload` (400) when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str) or not payload["id"].startswith("evt_"):
        raise MalformedPayload(PROVIDER, "not a Stripe event: no evt_ id")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        raise MalformedPayload(PROVIDER, "not a Stripe event: no type")
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedPayload(PROVIDER, "not a Stripe event: no data.object")
    created = payload.get("created")
    return StripeEvent(payload["id"][:255], payload["type"][:100], data["object"],
                       created if isinstance(created, int) and not isinstance(created, bool) else 0)


def customer_of(event: StripeEvent) -> str | None:
    obj = event.object
    if obj.get("object") == "customer":
        return obj.get("id")
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return customer if isinstance(customer, str) and customer else None


def apply_event(ports: Ports, event: StripeEvent) -> str:
    """Apply one verified event: ``ignored``, ``unknown_customer``, ``duplicate`` or ``applied``."""
    if event.type not in HANDLED:
        log.info("stripe event ignored", extra={"event_type": event.type, "event_id": event.id})
        return "ignored"
    store = ports.store()
    customer = customer_of(event)
    entry = store.get(customer_index(customer)) if customer else None
    if not entry:
        log.warning("stripe event for a customer we do not know", extra={"event_type": event.type,
                                                                         "event_id": event.id})
        return "unknown_customer"
    scope = TenantScope(store, entry["tenant_id"])
    ran, _ = run_once(store, PROVIDER, event.id, lambda: _apply(ports, scope, event), clock=ports.clock())
    result = "applied" if ran else "duplicate"
    log.info("stripe event", extra={"event_type": event.type, "event_id": event.id, "tenant_id": scope.tenant_id,
                                    "result": result})
    return result


def _apply(ports: Ports, scope: TenantScope, event: StripeEvent) -> None:
    obj, kind = event.object, event.type
    if kind == "checkout.session.completed":
        if obj.get("subscription"):
            sync_subscription(ports, scope, _ref(obj["subscription"]))
    elif kind in SUBSCRIPTION_EVENTS:
        record = sync_subscription(ports, scope, obj["id"])
        if kind.endswith("trial_will_end") and record.trial_end:
            notices.send(ports, scope.tenant_id, "trial_ending", f"{record.subscription_id}:trial:{record.trial_end:%s}",
                         plan=record.plan, action_url=_billing_url(ports))
    elif kind in INVOICE_EVENTS:
        _invoice_event(ports, scope, kind, obj["id"])
    elif kind in CARD_EVENTS:
        sync_card(ports, scope, customer_of(event) or "")
    elif kind == "invoice.upcoming":
        _card_expiry_check(ports, scope)
    elif kind == "customer.deleted":
        write_record(ports, scope, lambda r: r.model_copy(update={"customer_deleted": True,
                                                                   "status": "canceled"}), reason="customer deleted")
    elif kind == "charge.refunded":
        _refund(ports, scope, obj["id"])
    elif kind == "charge.dispute.created":
        log.warning("stripe dispute opened: an operator should answer it in Stripe's dashboard",
                    extra={"tenant_id": scope.tenant_id, "dispute_id": obj.get("id")})
        write_record(ports, scope, lambda r: r if obj.get("id") in r.disputes else
                      r.model_copy(update={"disputes": [*r.disputes, str(obj.get("id"))]}))


def _ref(value: Any) -> str:
    return value.get("id") if isinstance(value, dict) else str(value)


def sync_subscription(ports: Ports, scope: TenantScope, subscription_id: str) -> BillingRecord:
    """Re-fetch the subscription (with its default card) and store what Stripe holds now."""
    client = stripe_provider.client(ports.settings)
    started = ports.clock().now()
    sub = stripe_provider.as_dict(stripe_provider.call(lambda: client.v1.subscriptions.retrieve(
        subscription_id, params={"expand": ["default_payment_method"]})))
    card = card_from_payment_method(sub.get("default_payment_method"))

    def change(record: BillingRecord) -> BillingRecord:
        if record.subscription_id and record.subscription_id != sub.get("id") and sub.get("status") == "canceled":
            return record  # an old subscription ended after a newer one began: the newer one rules
        updated = apply_subscription(ports.settings, record, sub)
        return updated.model_copy(update={"card": card}) if card is not None else updated

    return write_record(ports, scope, change, started=started, reason=f"subscription {sub.get('status')}")


def sync_card(ports: Ports, scope: TenantScope, customer_id: str) -> BillingRecord:
    """Re-fetch the customer's default card: brand, last four, expiry, billing address."""
    client = stripe_provider.client(ports.settings)
    started = ports.clock().now()
    customer = stripe_provider.as_dict(stripe_provider.call(lambda: client.v1.customers.retrieve(
        customer_id, params={"expand": ["invoice_settings.default_payment_method"]})))
    pm = (customer.get("invoice_settings") or {}).get("default_payment_method")
    card = card_from_payment_method(pm) if isinstance(pm, dict) else None
    return write_record(ports, scope, lambda r: r.model_copy(update={"card": card}), started=started)


def _invoice_event(ports: Ports, scope: TenantScope, kind: str, invoice_id: str) -> None:
    client = stripe_provider.client(ports.settings)
    inv = stripe_provider.as_dict(stripe_provider.call(lambda: client.v1.invoices.retrieve(invoice_id)))
    invoice = invoice_from_stripe(inv, ports.clock().now())
    scope.set(invoice_rel(invoice.id), invoice.to_doc())
    record = read_record(scope)
    sub_id = invoice_subscription(inv)
    if sub_id and (record.subscription_id in (None, sub_id)):
        record = sync_subscription(ports, scope, sub_id)
    context = {"invoice_number": invoice.number, "amount_due": _money(invoice.amount_due, invoice.currency),
               "action_url": invoice.hosted_invoice_url, "action_label": "Pay the invoice",
               "card": _card_text(record)}
    if kind == "invoice.payment_failed" and invoice.status != "paid":
        notices.send(ports, scope.tenant_id, "payment_failed", f"{invoice.id}:failed:{invoice.attempt_count}",
                     grace_ends=_iso(entitlements.grace_ends(ports.settings, record)), **context)
    elif kind == "invoice.payment_action_required" and invoice.status != "paid":
        notices.send(ports, scope.tenant_id, "action_required", f"{invoice.id}:action:{invoice.attempt_count}",
                     **{**context, "action_label": "Confirm the payment"})


def _card_expiry_check(ports: Ports, scope: TenantScope) -> None:
    record = read_record(scope)
    now = ports.clock().now()
    card = record.card
    if card and card.exp_year and card.exp_month and (card.exp_year, card.exp_month) <= (now.year, now.month):
        notices.send(ports, scope.tenant_id, "card_expiring", f"card:{card.exp_year}-{card.exp_month}:{card.last4}",
                     card=_card_text(record), action_url=_billing_url(ports), action_label="Update the card")


def _refund(ports: Ports, scope: TenantScope, charge_id: str) -> None:
    client = stripe_provider.client(ports.settings)
    charge = stripe_provider.as_dict(stripe_provider.call(lambda: client.v1.charges.retrieve(charge_id)))
    invoice_id = _ref(charge.get("invoice")) if charge.get("invoice") else None
    if invoice_id and scope.get(invoice_rel(invoice_id)):
        scope.update(invoice_rel(invoice_id), {"amount_refunded": int(charge.get("amount_refunded") or 0)})


def write_record(ports: Ports, scope: TenantScope, change: Any, *, started: dt.datetime | None = None,
                 reason: str = "", force: entitlements.Action | None = None) -> BillingRecord:
    """Apply ``change`` to the record in one transaction with the business's service transition;
    then the notices and the grace task that transition asks for."""
    now = ports.clock().now()
    started = started or now

    def run(tx) -> tuple[BillingRecord, str]:
        doc = tx.get(scope.path(RECORD))
        tenant = tx.get(scope.root) or {}
        before = BillingRecord.model_validate(doc) if doc else BillingRecord(tenant_id=scope.tenant_id)
        if doc and doc.get("synced_at") and before.synced_at > started:
            return before, "stale"  # a read that began later was stored first: keep it
        after = change(before).model_copy(update={"synced_at": started})
        after, action = entitlements.transition(before, after, now)
        action = force or action
        patch, after = entitlements.tenant_patch(tenant, after, action, reason or after.status)
        if after.customer_id:
            tx.set(customer_index(after.customer_id), {"tenant_id": scope.tenant_id})
        tx.set(scope.path(RECORD), BillingRecord.model_validate(after.to_doc()).to_doc())
        if patch is not None:
            tx.update(scope.root, patch)
        return after, action if (patch is not None or action == "grace_started") else "none"

    record, action = ports.store().transaction(run)
    if action == "grace_started":
        grace_task.schedule(ports, scope.tenant_id, record)
    elif action == "suspend":
        notices.send(ports, scope.tenant_id, "suspended", f"suspended:{record.subscription_id}:{now:%Y%m%d%H%M%S}",
                     action_url=_billing_url(ports), action_label="Pay now")
    elif action == "restore":
        notices.send(ports, scope.tenant_id, "restored", f"restored:{record.subscription_id}:{now:%Y%m%d%H%M%S}",
                     action_url=_billing_url(ports))
    if action in ("suspend", "restore"):
        log.info("billing changed the business's service", extra={"tenant_id": scope.tenant_id, "action": action,
                                                                   "billing_status": record.status})
    return record


def _billing_url(ports: Ports) -> str:
    return f"{ports.settings.public_base_url.rstrip('/')}/app/billing"


def _card_text(record: BillingRecord) -> str:
    card = record.card
    if not card or not card.last4:
        return ""
    expiry = f", expires {card.exp_month:02d}/{card.exp_year}" if card.exp_month and card.exp_year else ""
    return f"{(card.brand or 'card').title()} ending {card.last4}{expiry}"


def _money(cents: int, currency: str) -> str:
    return f"${cents / 100:,.2f}" if currency == "usd" else f"{cents / 100:,.2f} {currency.upper()}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
