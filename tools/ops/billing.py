"""``scripts/ops billing show|sync|checkout|portal``: a business's billing (plan, status, card
facts, usage, invoices), repaired from Stripe, and links to Stripe's hosted pages."""

from __future__ import annotations

import argparse

from shared.billing import services
from shared.runtime import Ports
from tools.ops.context import NOT_FOUND, OpsError, out, out_json
from tools.ops.tenants import require_tenant


def show(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    view = services.billing_overview(ports, tenant.id)
    if args.json:
        out_json(view)
        return 0
    plan, card, usage = view["plan"], view["card"], view["usage"]
    out(f"plan       {plan['name']} ({'subscribed' if view['subscribed'] else 'trial, no subscription'})")
    out(f"status     {view['status']}" + (" (cancels at period end)" if view["cancel_at_period_end"] else ""))
    if view["banner"]:
        out(f"banner     {view['banner']}")
    if view["current_period_end"]:
        out(f"period     {view['current_period_start']:%Y-%m-%d} to {view['current_period_end']:%Y-%m-%d}")
    if card:
        out(f"card       {card['brand']} ending {card['last4']}, expires {card['exp_month']:02d}/{card['exp_year']}")
    out(f"usage      {usage['billable_minutes']} of {usage['included_minutes']} AI minutes "
        f"({usage['billable_calls']} billable calls, {usage['calls_not_billed']} not billed)")
    for inv in view["invoices"]:
        out(f"invoice    {inv['number'] or inv['id']:<14} {inv['status'] or '':<6} "
            f"${inv['amount_due'] / 100:,.2f} due, ${inv['amount_paid'] / 100:,.2f} paid  {inv['hosted_invoice_url'] or ''}")
    return 0


def sync(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    try:
        result = services.sync(ports, tenant.id)
    except services.NoCustomer as exc:
        raise OpsError(str(exc), NOT_FOUND) from None
    out(f"synced {tenant.id} from Stripe: subscription {result['subscription_id'] or 'none'}, "
        f"{result['invoices']} invoices")
    return 0


def checkout(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    session = services.create_checkout_session(ports, tenant.id, args.plan)
    out(session["url"])
    return 0


def portal(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    try:
        session = services.create_portal_session(ports, tenant.id)
    except services.NoCustomer as exc:
        raise OpsError(str(exc), NOT_FOUND) from None
    out(session["url"])
    return 0
