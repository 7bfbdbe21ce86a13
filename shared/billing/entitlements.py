"""What a business may use, from its subscription: service on or off, seats, phone numbers.

* ``trialing`` and ``active``: service. A business with no subscription yet is on the trial
  plan's entitlements (``plans.TRIAL_PLAN``).
* ``past_due``: service continues for the grace period (``Z3_BILLING_GRACE_DAYS``, default 7,
  counted from the first time we saw it past due), with a banner and the dunning emails; the
  ``billing_grace`` task then suspends the business if it is still past due.
* ``unpaid``, ``canceled``, ``paused``, ``incomplete_expired``: suspended at once.
* Paying (back to ``active``/``trialing``) restores service at once -- only a suspension billing
  made: a business an operator suspended stays suspended.

Suspended means ``tenants/{t}.status = suspended`` (reason ``billing: ...``): the voice functions
send its callers to voicemail and texting its callers stops.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from shared.billing import plans
from shared.billing.models import BillingRecord
from shared.models.base import utcnow

SUSPENDING = frozenset({"unpaid", "canceled", "paused", "incomplete_expired"})
SERVING = frozenset({"trialing", "active"})
Action = Literal["none", "grace_started", "suspend", "restore"]


class LimitReached(PermissionError):
    """The plan does not include another seat / phone number."""


def transition(before: BillingRecord, after: BillingRecord, now: dt.datetime) -> tuple[BillingRecord, Action]:
    """The record to store and what must happen to the business's service."""
    if after.status == "past_due":
        if before.past_due_since is None or before.status != "past_due":
            return after.model_copy(update={"past_due_since": now}), "grace_started"
        return after.model_copy(update={"past_due_since": before.past_due_since}), "none"
    after = after.model_copy(update={"past_due_since": None})
    if after.status in SUSPENDING:
        return after, "suspend"
    if after.status in SERVING and before.suspended_by_billing:
        return after, "restore"
    return after, "none"


def tenant_patch(tenant: dict[str, Any], record: BillingRecord, action: Action,
                 reason: str) -> tuple[dict[str, Any] | None, BillingRecord]:
    """The tenant document's change for ``action`` (None: no change) and the record after it."""
    if action == "suspend" and tenant.get("status", "active") == "active":
        return ({"status": "suspended", "status_reason": f"billing: {reason}", "updated_at": utcnow()},
                record.model_copy(update={"suspended_by_billing": True}))
    if action == "restore":
        record = record.model_copy(update={"suspended_by_billing": False})
        if tenant.get("status") == "suspended" and str(tenant.get("status_reason") or "").startswith("billing:"):
            return {"status": "active", "status_reason": None, "updated_at": utcnow()}, record
    return None, record


def grace_ends(settings: Any, record: BillingRecord) -> dt.datetime | None:
    if record.status != "past_due" or record.past_due_since is None:
        return None
    return record.past_due_since + dt.timedelta(days=settings.z3_billing_grace_days)


def current_plan(settings: Any, record: dict[str, Any] | None) -> plans.Plan:
    """The plan whose entitlements apply: the subscription's, else the trial plan's."""
    catalogue = plans.catalogue(settings)
    plan_id = (record or {}).get("plan")
    return catalogue.get(plan_id) or catalogue.get(plans.TRIAL_PLAN) or next(iter(catalogue.values()))


def check_seat(settings: Any, record: dict[str, Any] | None, seats_used: int) -> None:
    plan = current_plan(settings, record)
    if seats_used >= plan.seats:
        raise LimitReached(f"the {plan.name} plan includes {plan.seats} team seats, all in use: "
                           "upgrade the plan or remove a member")


def check_number(settings: Any, record: dict[str, Any] | None, numbers_used: int) -> None:
    plan = current_plan(settings, record)
    if numbers_used >= plan.phone_numbers:
        raise LimitReached(f"the {plan.name} plan includes {plan.phone_numbers} phone number"
                           f"{'s' if plan.phone_numbers != 1 else ''}, all in use: upgrade the plan or release one")
