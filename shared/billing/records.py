"""Where billing lives, and Stripe's objects turned into our documents (facts only, no card number).

``record_from_subscription`` / ``card_from_payment_method`` / ``invoice_from_stripe`` read the
objects the SDK returns (plain dicts); the API version's moves are followed (the current period
lives on the subscription item since 2025; an invoice names its subscription under
``parent.subscription_details``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.billing import plans
from shared.billing.models import BillingAddress, BillingRecord, Card, Invoice, stamp
from shared.tenants import TenantScope

RECORD = "billing/record"
# Invoices are tax and accounting records: the IRS asks for records that support income to be
# kept at least 3 years, and 7 where a loss or bad-debt deduction may be claimed (IRS Pub. 583);
# we keep them 7 years after they were issued, also after the account is deleted.
INVOICE_KEEP = dt.timedelta(days=7 * 366)


def customer_index(customer_id: str) -> str:
    return f"stripe_customers/{customer_id}"


def invoice_rel(invoice_id: str) -> str:
    return f"invoices/{invoice_id}"


def read_record(scope: TenantScope) -> BillingRecord:
    doc = scope.get(RECORD)
    return BillingRecord.model_validate(doc) if doc else BillingRecord(tenant_id=scope.tenant_id)


def subscription_price(sub: dict[str, Any]) -> str | None:
    for item in (sub.get("items") or {}).get("data") or []:
        price = item.get("price") or {}
        if (price.get("recurring") or {}).get("usage_type", "licensed") == "licensed" and price.get("id"):
            return price["id"]
    return None


def apply_subscription(settings: Any, record: BillingRecord, sub: dict[str, Any]) -> BillingRecord:
    items = (sub.get("items") or {}).get("data") or [{}]
    price = subscription_price(sub)
    plan = plans.plan_for_price(settings, price)
    start = sub.get("current_period_start") or items[0].get("current_period_start")
    end = sub.get("current_period_end") or items[0].get("current_period_end")
    status = sub.get("status") or "none"
    if (sub.get("pause_collection") or {}).get("behavior") == "void" and status == "active":
        status = "paused"
    return record.model_copy(update={
        "subscription_id": sub.get("id"), "customer_id": record.customer_id or _id(sub.get("customer")),
        "price_id": price, "plan": plan.id if plan else record.plan, "status": status,
        "current_period_start": stamp(start), "current_period_end": stamp(end),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")), "trial_end": stamp(sub.get("trial_end"))})


def card_from_payment_method(pm: dict[str, Any] | None) -> Card | None:
    if not isinstance(pm, dict) or pm.get("type") != "card" or not isinstance(pm.get("card"), dict):
        return None
    card, address = pm["card"], ((pm.get("billing_details") or {}).get("address") or {})
    return Card(brand=card.get("display_brand") or card.get("brand"), last4=card.get("last4"),
                exp_month=card.get("exp_month"), exp_year=card.get("exp_year"),
                address=BillingAddress(**{k: address.get(k) for k in BillingAddress.model_fields}))


def invoice_from_stripe(inv: dict[str, Any], now: dt.datetime) -> Invoice:
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    transitions = inv.get("status_transitions") or {}
    created = stamp(inv.get("created"))
    return Invoice(id=inv["id"], number=inv.get("number"), subscription_id=_id(parent.get("subscription") or inv.get("subscription")),
                   amount_due=int(inv.get("amount_due") or 0), amount_paid=int(inv.get("amount_paid") or 0),
                   currency=inv.get("currency") or "usd", status=inv.get("status"),
                   hosted_invoice_url=inv.get("hosted_invoice_url"), invoice_pdf=inv.get("invoice_pdf"),
                   period_start=stamp(inv.get("period_start")), period_end=stamp(inv.get("period_end")),
                   paid_at=stamp(transitions.get("paid_at")), attempt_count=int(inv.get("attempt_count") or 0),
                   created_at=created, expire_at=(created or now) + INVOICE_KEEP)


def invoice_subscription(inv: dict[str, Any]) -> str | None:
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    return _id(parent.get("subscription") or inv.get("subscription"))


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None
