"""Helpers for the billing tests: a business, the Stripe sandbox's lifecycle, signed deliveries."""

from __future__ import annotations

from typing import Any

from shared.billing import services
from shared.tenants import TenantScope, create_tenant


def seed(ports, tenant_id: str = "t_sunrise") -> TenantScope:
    create_tenant(ports.store(), tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana Rivera",
                  contact_email=f"owner-{tenant_id}@sunrise.example", time_zone="America/Denver",
                  numbers=[])
    return TenantScope(ports.store(), tenant_id)


def lifecycle(ports, sandbox, tenant_id: str) -> dict[str, Any]:
    """checkout -> subscription created -> invoice paid -> updated -> payment failed -> past_due
    -> card updated -> paid -> canceled, as Stripe would do it; what Stripe holds at the end."""
    session = services.create_checkout_session(ports, tenant_id, "starter")
    sub = sandbox.complete_checkout(session["id"])
    sandbox.update_subscription(sub["id"], cancel_at_period_end=False, metadata={"tenant_id": tenant_id, "n": "1"})
    failed = sandbox.renew(sub["id"], fail=True)
    sandbox.update_card(sub["customer"], last4="1881", exp_month=11, exp_year=2031)
    sandbox.pay_invoice(failed["id"])
    sandbox.cancel(sub["id"])
    return {"subscription": sub["id"], "customer": sub["customer"], "failed_invoice": failed["id"]}


def post_event(client, sandbox, event: dict[str, Any], *, timestamp: int | None = None,
               signature: str | None = None, raw: bytes | None = None):
    body, headers = sandbox.signed(event, timestamp=timestamp)
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client("stripe_events").post("/", data=raw if raw is not None else body, headers=headers)


def comparable(record: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (record or {}).items() if k != "synced_at"}
