"""``/billing``: the business's plan and invoices, and the way to pay (owners only, by the
permission table). Money flows through Stripe's hosted pages: the API hands out a Checkout
Session or Customer Portal URL and never sees a card number; ``GET /billing`` shows the card's
facts only (brand, last four, expiry, billing address).

Starting a subscription needs the owner's email confirmed (``signup.require_verified``): the
receipts, dunning and suspension notices go to that address."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts import signup
from shared.accounts.errors import Conflict, InvalidInput
from shared.billing import plans, services
from shared.billing.models import Card, SubscriptionStatus
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(pattern=r"^[a-z0-9_]{1,32}$", description="a plan id of the catalogue (starter, pro ...)")


class HostedPage(BaseModel):
    id: str
    url: str = Field(description="Stripe's hosted page: send the person there")


class PlanOut(BaseModel):
    id: str
    name: str
    included_minutes: int
    phone_numbers: int
    seats: int
    features: list[str]


class UsageOut(BaseModel):
    billable_minutes: int
    billable_calls: int
    calls_not_billed: int = Field(description="blocked callers, calls under 15 s, calls that never reached the "
                                              "agent, calls marked as spam")
    included_minutes: int


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    amount_due: int
    amount_paid: int
    amount_refunded: int
    currency: str
    status: str | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    paid_at: dt.datetime | None
    created_at: dt.datetime | None


class BillingOut(BaseModel):
    plan: PlanOut
    subscribed: bool
    status: SubscriptionStatus
    banner: str | None
    grace_ends: dt.datetime | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    trial_end: dt.datetime | None
    card: Card | None
    usage: UsageOut
    invoices: list[InvoiceOut] = Field(description="newest first, the last 12")

    @classmethod
    def of(cls, overview: dict[str, Any]) -> "BillingOut":
        return cls.model_validate(overview)


def _owner_verified() -> None:
    principal = auth.principal()
    user = auth.ports().store().get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {}
    signup.require_verified(user)


@operation(blueprint, "GET", "/billing", action="billing.read",
           summary="Plan, status, card facts, usage this period and invoices", response=BillingOut)
def billing_overview() -> BillingOut:
    return BillingOut.of(services.billing_overview(auth.ports(), auth.principal().tenant_id))


@operation(blueprint, "POST", "/billing/checkout", action="billing.manage",
           summary="Subscribe to a plan: the URL of a Stripe Checkout page", response=HostedPage, body=CheckoutIn)
def billing_checkout(body: CheckoutIn) -> HostedPage:
    _owner_verified()
    try:
        session = services.create_checkout_session(auth.ports(), auth.principal().tenant_id, body.plan)
    except plans.UnknownPlan as exc:
        raise InvalidInput(str(exc), field="plan") from exc
    return HostedPage(**session)


@operation(blueprint, "POST", "/billing/portal", action="billing.manage",
           summary="Change the card, cancel, see invoices: the URL of Stripe's Customer Portal",
           response=HostedPage, errors=(409,))
def billing_portal() -> HostedPage:
    try:
        session = services.create_portal_session(auth.ports(), auth.principal().tenant_id)
    except services.NoCustomer as exc:
        raise Conflict("This business has not subscribed yet: start with a plan (POST /billing/checkout).") from exc
    return HostedPage(**session)
