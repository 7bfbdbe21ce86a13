"""``scripts/ops integrations ...``: a business's QuickBooks Online and Google Calendar
connections (the app's Settings → Integrations page has the same buttons for owners and admins).

``connect`` prints the authorize URL for the business's owner or admin to open (``--email``
names who, recorded as the one who connected). The flow's state is bound to this invocation
(an operator binding): it is printed only here, works once, for 10 minutes, and the callback
needs no session cookie (``shared.integrations.connections``). ``connect google_calendar
--calendar ID`` chooses a calendar other than the account's primary one. ``disconnect`` revokes
at the provider and deletes the tokens; the audit log names the user given by ``--email``."""

from __future__ import annotations

import argparse

from shared.calendar import connect as calendar_connect
from shared.integrations import connections, overview
from shared.models.tenant import email_key
from shared.quickbooks import connect
from shared.runtime import Ports
from tools.ops.context import NOT_FOUND, REFUSED, UNAVAILABLE, OpsError, out, out_json
from tools.ops.email import email_address
from tools.ops.tenants import require_tenant

PROVIDERS = overview.PROVIDERS
LABELS = {"quickbooks": "Intuit", "google_calendar": "Google"}


def _user_id(ports: Ports, tenant_id: str, email: str) -> str:
    login = ports.store().get(f"user_logins/{email_key(email_address(email))}")
    if login is None or login.get("tenant_id") != tenant_id:
        raise OpsError(f"{tenant_id} has no user with that email", NOT_FOUND)
    user = ports.store().get(f"tenants/{tenant_id}/users/{login['user_id']}") or {}
    if user.get("role") not in ("owner", "admin") or user.get("status") == "disabled":
        raise OpsError("only an active owner or admin may connect or disconnect an integration", REFUSED)
    return login["user_id"]


def connect_(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    user_id = _user_id(ports, tenant.id, args.email)
    binding = connections.operator_binding()
    if args.provider == "google_calendar":
        if args.calendar is not None and not 0 < len(args.calendar) <= 254:
            raise OpsError("--calendar must be 1-254 characters")
        url = calendar_connect.start(ports, tenant_id=tenant.id, user_id=user_id, binding=binding,
                                     calendar_id=args.calendar)
    else:
        if args.calendar:
            raise OpsError("--calendar is for google_calendar")
        url = connect.start(ports, tenant_id=tenant.id, user_id=user_id, binding=binding)
    out("Open this URL as the business (it works once, for 10 minutes):")
    out(url)
    return 0


def status(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    found = {provider: connections.get(ports, tenant.id, provider) for provider in PROVIDERS}
    if args.json:
        out_json(found)
        return 0
    for provider, data in found.items():
        if data is None:
            out(f"{provider}: never connected")
            continue
        when = data.get("connected_at") if data["status"] == "connected" else data.get("disconnected_at")
        account = ((data.get("details") or {}).get("calendar_name") and "calendar "
                   + data["details"]["calendar_name"]) or f"company {data.get('account_id')}"
        extra = (f" {account}, token until {data.get('access_expires_at')}"
                 if data["status"] == "connected" else f" ({data.get('disconnect_reason')})")
        out(f"{provider}: {data['status']} since {when}{extra}")
    return 0


def disconnect(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    user_id = _user_id(ports, tenant.id, args.email)
    if not overview.disconnect(ports, tenant.id, args.provider, actor_user_id=user_id, reason="operator"):
        raise OpsError(f"{tenant.id} has no live {args.provider} connection", NOT_FOUND)
    out(f"disconnected {args.provider} from {tenant.id}: revoked at {LABELS[args.provider]}, tokens deleted")
    return 0


def item(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    if args.rate < 0 or args.rate > 100000:
        raise OpsError("--rate must be between 0 and 100000")
    if not args.item.isdigit():
        raise OpsError(f"{args.item!r} is not a QuickBooks item id")
    connect.set_item(ports, tenant.id, item_id=args.item, rate=args.rate, actor_user_id=None)
    out(f"{tenant.id} invoices completed appointments as QuickBooks item {args.item} at {args.rate:.2f}")
    return 0


def items(args: argparse.Namespace, ports: Ports) -> int:
    """The company's service items (what ``quickbooks-item --item`` takes), asked of QuickBooks."""
    tenant = require_tenant(ports, args.tenant)
    try:
        found = connect.service_items(ports, tenant.id)
    except connections.NotConnected as exc:
        if args.json:
            out_json({"error": exc.reason})
        raise OpsError(exc.reason) from None
    if args.json:
        out_json([{"id": i.id, "name": i.name, "unit_price": i.unit_price} for i in found])
        return 0
    if not found:
        out(f"{tenant.id}'s QuickBooks company has no active service item")
    for i in found:
        price = f"  ${i.unit_price:,.2f} in QuickBooks" if i.unit_price is not None else ""
        out(f"{i.id:>6}  {i.name}{price}")
    return 0


def calendar_sync(args: argparse.Namespace, ports: Ports) -> int:
    from shared.calendar import events

    tenant = require_tenant(ports, args.tenant)
    if (connections.get(ports, tenant.id, "google_calendar") or {}).get("status") != "connected":
        raise OpsError(f"{tenant.id} has no live google_calendar connection", NOT_FOUND)
    synced, failed = events.sync_pending(ports, tenant.id)
    out(f"{tenant.id}: {synced} appointments written to Google Calendar, {failed} failed")
    return 0 if not failed else UNAVAILABLE
