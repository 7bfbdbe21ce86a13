"""The plan catalogue: what each plan costs in Stripe (its price id) and what it includes.

Configuration: ``Z3_BILLING_PLANS`` (JSON list of :class:`Plan`), or the built-in Starter and
Pro with the price ids ``STRIPE_PRICE_STARTER`` / ``STRIPE_PRICE_PRO``. A business with no
subscription yet is on the trial: ``TRIAL_PLAN``'s entitlements (Pro: the whole product).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, TypeAdapter

from shared.models.base import Model

TRIAL_PLAN = "pro"  # before a subscription: the whole product, as a trial


class Plan(Model):
    id: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    name: str
    price_id: str  # the licensed (monthly fee) price
    metered_price_id: str | None = None  # the usage price on the meter, when the plan bills overage
    monthly_cents: int = Field(ge=0)
    included_minutes: int = Field(ge=0)
    phone_numbers: int = Field(ge=1)
    seats: int = Field(ge=1)
    features: list[str] = Field(default_factory=list)


def catalogue(settings: Any) -> dict[str, Plan]:
    if settings.z3_billing_plans.strip():
        plans = TypeAdapter(list[Plan]).validate_python(json.loads(settings.z3_billing_plans))
    else:
        plans = [
            Plan(id="starter", name="Starter", price_id=settings.stripe_price_starter, monthly_cents=4900,
                 included_minutes=200, phone_numbers=1, seats=3, features=["ai_receptionist", "sms"]),
            Plan(id="pro", name="Pro", price_id=settings.stripe_price_pro, monthly_cents=14900,
                 included_minutes=1000, phone_numbers=3, seats=10,
                 features=["ai_receptionist", "sms", "calendar", "quickbooks", "crm_webhooks"]),
        ]
    return {plan.id: plan for plan in plans}


class UnknownPlan(ValueError):
    """No plan of the catalogue has this id (the message names the ones there are)."""


def plan(settings: Any, plan_id: str) -> Plan:
    """The plan named ``plan_id``; :class:`UnknownPlan` naming the plans there are."""
    plans = catalogue(settings)
    if plan_id not in plans:
        raise UnknownPlan(f"unknown plan {plan_id!r} (plans: {', '.join(plans)})")
    return plans[plan_id]


def plan_for_price(settings: Any, price_id: str | None) -> Plan | None:
    for candidate in catalogue(settings).values():
        if price_id and price_id in (candidate.price_id, candidate.metered_price_id):
            return candidate
    return None
