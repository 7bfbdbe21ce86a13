"""The billing documents. No card number ever: only the card's brand, last four digits, expiry
and billing address are kept (the policy's promise), and every model here refuses to hold
anything that looks like a card number (13-19 digits passing Luhn, ``shared.pii.cards``) in any
field, so a mapping mistake fails loudly instead of storing one.

* ``tenants/{t}/billing/record``: :class:`BillingRecord` (one per business);
* ``tenants/{t}/invoices/{in_...}``: :class:`Invoice` (the history);
* ``tenants/{t}/usage/{call_sid}``: :class:`UsageRecord` (one per call, billable or not, why);
* ``stripe_customers/{cus_...}`` -> ``{tenant_id}``: the global index the webhooks use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from shared.models.base import Model, utcnow
from shared.pii.cards import find_card_number

SubscriptionStatus = Literal["none", "incomplete", "incomplete_expired", "trialing", "active", "past_due",
                             "unpaid", "canceled", "paused"]


class _NoCards(Model):
    @model_validator(mode="after")
    def _no_card_numbers(self) -> Self:
        if find_card_number(self.model_dump(mode="json")):
            raise ValueError("a billing document may not hold a card number")
        return self


class BillingAddress(_NoCards):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Card(_NoCards):
    brand: str | None = None
    last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    exp_month: int | None = Field(default=None, ge=1, le=12)
    exp_year: int | None = Field(default=None, ge=2000, le=2200)
    address: BillingAddress = Field(default_factory=BillingAddress)


class BillingRecord(_NoCards):
    tenant_id: str
    customer_id: str | None = None
    customer_deleted: bool = False
    subscription_id: str | None = None
    plan: str | None = None
    price_id: str | None = None
    status: SubscriptionStatus = "none"
    current_period_start: dt.datetime | None = None
    current_period_end: dt.datetime | None = None
    cancel_at_period_end: bool = False
    trial_end: dt.datetime | None = None
    past_due_since: dt.datetime | None = None
    suspended_by_billing: bool = False
    card: Card | None = None
    disputes: list[str] = Field(default_factory=list)
    synced_at: dt.datetime = Field(default_factory=utcnow)


class Invoice(_NoCards):
    id: str
    number: str | None = None
    subscription_id: str | None = None
    amount_due: int = 0
    amount_paid: int = 0
    amount_refunded: int = 0
    currency: str = "usd"
    status: str | None = None  # draft, open, paid, uncollectible, void
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    attempt_count: int = 0
    created_at: dt.datetime | None = None
    # Invoices are business records: kept after the account closes (shared/billing/services.py).
    expire_at: dt.datetime | None = None


class UsageRecord(_NoCards):
    call_sid: str
    billable: bool
    reason: str  # billable | blocked_caller | too_short | not_ai | spam_credit | no_subscription ...
    seconds: float = 0
    minutes: int = 0
    ended_at: dt.datetime | None = None
    period_key: str | None = None  # YYYY-MM of the call's end (usage per period)
    meter_identifier: str | None = None
    reported_at: dt.datetime | None = None
    credited_at: dt.datetime | None = None


def stamp(value: Any) -> dt.datetime | None:
    """A Stripe unix time as an aware datetime."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value, dt.timezone.utc)
