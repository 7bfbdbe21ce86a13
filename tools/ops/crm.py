"""``scripts/ops crm endpoints add|list|enable|test|deliveries``: a business's CRM webhook
endpoints (what Settings → Integrations and ``/api/v1/crm/endpoints`` do in the app). ``add`` prints the endpoint's signing secret
once: hand it to the business for its CRM; nothing shows it again."""

from __future__ import annotations

import argparse

from shared.crm import delivery, endpoints, setup
from shared.runtime import Ports
from tools.ops.context import NOT_FOUND, OpsError, out, out_json
from tools.ops.tenants import require_tenant


def _endpoint(ports: Ports, tenant_id: str, endpoint_id: str) -> endpoints.Endpoint:
    try:
        return endpoints.get_endpoint(ports, tenant_id, endpoint_id)
    except endpoints.UnknownEndpoint as exc:
        raise OpsError(str(exc), NOT_FOUND) from None


def add(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    endpoint, secret = setup.add_endpoint(ports, tenant.id, url=args.url, events=args.event or [],
                                              description=args.description)
    out(f"added {endpoint.id} for {', '.join(endpoint.events)}")
    out(f"signing secret (shown once; the CRM verifies webhook-signature with it): {secret}")
    return 0


def list_(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    found = endpoints.list_endpoints(ports, tenant.id)[: args.limit]
    if args.json:
        out_json([e.public() for e in found])
        return 0
    if not found:
        out(f"no CRM endpoints at {tenant.id}")
        return 0
    out(f"{'ID':<20} {'STATE':<9} {'EVENTS':<60} URL")
    for e in found:
        state = "enabled" if e.enabled else "disabled"
        out(f"{e.id:<20} {state:<9} {','.join(e.events):<60} {e.url}")
        if e.disabled_reason:
            out(f"{'':<20} ({e.disabled_reason})")
    return 0


def enable(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    _endpoint(ports, tenant.id, args.endpoint)
    endpoints.set_enabled(ports, tenant.id, args.endpoint, not args.disable)
    out(f"{args.endpoint} {'disabled' if args.disable else 'enabled'}")
    return 0


def test(args: argparse.Namespace, ports: Ports) -> int:
    """Exit status 0 when the endpoint accepted the test event, 4 when it did not."""
    tenant = require_tenant(ports, args.tenant)
    _endpoint(ports, tenant.id, args.endpoint)
    outcome = delivery.send_test(ports, tenant.id, args.endpoint)
    out(f"test event {outcome.status}: HTTP {outcome.last_status_code if outcome.last_status_code else 'no answer'}"
        f" ({outcome.delivery_id})")
    return 0 if outcome.status == "delivered" else 4


def deliveries(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    _endpoint(ports, tenant.id, args.endpoint)
    log = delivery.delivery_log(ports, tenant.id, args.endpoint, limit=args.limit)
    if args.json:
        out_json(log)
        return 0
    if not log:
        out(f"no deliveries to {args.endpoint}")
        return 0
    out(f"{'CREATED':<20} {'EVENT':<20} {'STATUS':<10} {'TRIES':>5} {'CODE':>5}  NEXT / ERROR")
    for d in log:
        created = f"{d['created_at']:%Y-%m-%d %H:%M:%S}" if d.get("created_at") else ""
        tail = f"{d['next_attempt_at']:%Y-%m-%d %H:%M:%S}" if d.get("status") == "retrying" else d.get("last_error") or ""
        out(f"{created:<20} {d['event_type']:<20} {d['status']:<10} {d['attempts']:>5} "
            f"{d.get('last_status_code') or '-':>5}  {tail}")
    return 0
