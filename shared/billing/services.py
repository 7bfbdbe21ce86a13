"""What owners do with billing (the app's ``/app/api/v1/billing`` and ``scripts/ops billing``):
money flows through Stripe's hosted pages only, so no card number ever reaches us.

* :func:`create_checkout_session` -- a Checkout Session for a plan (the Stripe customer is
  created first, with ``metadata.tenant_id``, and indexed before Stripe can send an event);
* :func:`create_portal_session` -- a Customer Portal session (change card, cancel, invoices);
* :func:`billing_overview` -- plan, status, banner, card facts, usage this period, invoices;
* :func:`sync` -- re-fetch subscription, card and invoices from Stripe and repair our record;
* :func:`delete_customer` -- the privacy deletion cascade's hook: deletes the Stripe customer
  (which cancels its subscriptions) and keeps our invoice history (``records.INVOICE_KEEP``:
  7 years, the tax record-keeping period; see ``shared/billing/records.py``).
"""

from __future__ import annotations

from typing import Any

from shared.billing import entitlements, plans
from shared.billing.events import sync_card, sync_subscription
from shared.billing.models import Invoice, UsageRecord
from shared.billing.records import RECORD, customer_index, invoice_from_stripe, invoice_rel, read_record
from shared.providers import stripe as stripe_provider
from shared.ports import Ports
from shared.tenants import TenantScope


class NoCustomer(LookupError):
    """The business has no Stripe customer yet (it never subscribed)."""


def ensure_customer(ports: Ports, scope: TenantScope) -> str:
    record = read_record(scope)
    if record.customer_id and not record.customer_deleted:
        return record.customer_id
    tenant = scope.tenant()
    client = stripe_provider.client(ports.settings)
    customer = stripe_provider.call(lambda: client.v1.customers.create(
        params={"name": tenant.name, "email": tenant.contact.email, "metadata": {"tenant_id": tenant.id}},
        options={"idempotency_key": f"z3-customer-{tenant.id}-{record.synced_at:%s}"}))
    customer_id = customer.id

    def link(tx) -> None:  # reads before writes: Firestore refuses a read after a write in a transaction
        doc = tx.get(scope.path(RECORD)) or {"tenant_id": tenant.id}
        tx.set(customer_index(customer_id), {"tenant_id": tenant.id})
        tx.set(scope.path(RECORD), {**doc, "customer_id": customer_id, "customer_deleted": False})

    ports.store().transaction(link)
    return customer_id


def create_checkout_session(ports: Ports, tenant_id: str, plan_id: str) -> dict[str, str]:
    """``{"id", "url"}`` of a Checkout Session that subscribes the business to ``plan_id``."""
    plan = plans.plan(ports.settings, plan_id)
    scope = TenantScope(ports.store(), tenant_id)
    customer_id = ensure_customer(ports, scope)
    record = read_record(scope)
    base = ports.settings.public_base_url.rstrip("/")
    items: list[dict[str, Any]] = [{"price": plan.price_id, "quantity": 1}]
    if plan.metered_price_id:
        items.append({"price": plan.metered_price_id})
    sub_data: dict[str, Any] = {"metadata": {"tenant_id": tenant_id, "plan": plan.id}}
    if record.status == "none" and ports.settings.z3_billing_trial_days:
        sub_data["trial_period_days"] = ports.settings.z3_billing_trial_days
    client = stripe_provider.client(ports.settings)
    session = stripe_provider.call(lambda: client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer_id, "client_reference_id": tenant_id,
        "line_items": items, "subscription_data": sub_data, "metadata": {"tenant_id": tenant_id, "plan": plan.id},
        "success_url": f"{base}/app/billing?checkout=done", "cancel_url": f"{base}/app/billing?checkout=canceled"}))
    return {"id": session.id, "url": session.url}


def create_portal_session(ports: Ports, tenant_id: str) -> dict[str, str]:
    scope = TenantScope(ports.store(), tenant_id)
    record = read_record(scope)
    if not record.customer_id or record.customer_deleted:
        raise NoCustomer(f"{tenant_id} has no Stripe customer yet: subscribe first")
    client = stripe_provider.client(ports.settings)
    base = ports.settings.public_base_url.rstrip("/")
    session = stripe_provider.call(lambda: client.v1.billing_portal.sessions.create(
        params={"customer": record.customer_id, "return_url": f"{base}/app/billing"}))
    return {"id": session.id, "url": session.url}


def usage_this_period(scope: TenantScope, record: Any) -> dict[str, Any]:
    query = scope.collection("usage")
    if record.current_period_start:
        query = query.where("ended_at", ">=", record.current_period_start)
    rows = [UsageRecord.model_validate(d.data) for d in scope.query(query)]
    return {"billable_minutes": sum(r.minutes for r in rows if r.billable),
            "billable_calls": sum(1 for r in rows if r.billable),
            "calls_not_billed": sum(1 for r in rows if not r.billable)}


def billing_overview(ports: Ports, tenant_id: str, *, invoices: int = 12) -> dict[str, Any]:
    scope = TenantScope(ports.store(), tenant_id)
    scope.tenant()  # UnknownTenant
    record = read_record(scope)
    plan = entitlements.current_plan(ports.settings, record.model_dump())
    grace = entitlements.grace_ends(ports.settings, record)
    banner = None
    if record.status == "past_due":
        banner = f"Your last payment failed. Service continues until {grace:%B %d, %Y}; pay the invoice or update your card."
    elif record.suspended_by_billing:
        banner = "Service is paused for an unpaid invoice. Pay it and service returns at once."
    docs = scope.query(scope.collection("invoices").order_by("created_at", "desc").page(invoices))
    usage = usage_this_period(scope, record)
    return {
        "plan": {"id": plan.id, "name": plan.name, "included_minutes": plan.included_minutes,
                 "phone_numbers": plan.phone_numbers, "seats": plan.seats, "features": plan.features},
        "subscribed": record.subscription_id is not None,
        "status": record.status, "banner": banner, "grace_ends": grace,
        "current_period_start": record.current_period_start, "current_period_end": record.current_period_end,
        "cancel_at_period_end": record.cancel_at_period_end, "trial_end": record.trial_end,
        "card": record.card.model_dump() if record.card else None,
        "usage": {**usage, "included_minutes": plan.included_minutes},
        "invoices": [Invoice.model_validate(d.data).model_dump(exclude={"expire_at"}) for d in docs],
    }


def sync(ports: Ports, tenant_id: str) -> dict[str, Any]:
    """Re-fetch everything from Stripe and repair our record; what was synced."""
    scope = TenantScope(ports.store(), tenant_id)
    scope.tenant()
    record = read_record(scope)
    if not record.customer_id:
        raise NoCustomer(f"{tenant_id} has no Stripe customer yet: nothing to sync")
    client = stripe_provider.client(ports.settings)
    if not record.subscription_id:
        subs = stripe_provider.call(lambda: client.v1.subscriptions.list(params={"customer": record.customer_id,
                                                                                 "limit": 1}))
        if subs.data:
            record = record.model_copy(update={"subscription_id": subs.data[0].id})
    if record.subscription_id:
        sync_subscription(ports, scope, record.subscription_id)
    sync_card(ports, scope, record.customer_id)
    listed = stripe_provider.call(lambda: client.v1.invoices.list(params={"customer": record.customer_id,
                                                                          "limit": 100}))
    now = ports.clock().now()
    for inv in listed.data:
        invoice = invoice_from_stripe(stripe_provider.as_dict(inv), now)
        scope.set(invoice_rel(invoice.id), invoice.to_doc())
    return {"subscription_id": record.subscription_id, "invoices": len(listed.data)}


def delete_customer(ports: Ports, tenant_id: str) -> bool:
    """Delete the business's Stripe customer (True when one was deleted). Our invoices stay."""
    scope = TenantScope(ports.store(), tenant_id)
    record = read_record(scope)
    if not record.customer_id or record.customer_deleted:
        return False
    client = stripe_provider.client(ports.settings)
    try:
        stripe_provider.call(lambda: client.v1.customers.delete(record.customer_id))
    except stripe_provider.StripeRejected as exc:
        if exc.code != "resource_missing":
            raise
    scope.set(RECORD, {**record.model_copy(update={"customer_deleted": True, "status": "canceled",
                                                   "card": None}).to_doc()})
    return True
