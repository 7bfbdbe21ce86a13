"""``scripts/ops hold add|list|release``: legal holds on a tenant, a caller's number or a call
(``shared.privacy.holds``). The sweep and every deletion skip what a hold covers."""

from __future__ import annotations

import argparse

from shared.privacy import holds
from shared.runtime import Ports
from shared.tenants import list_tenants
from tools.ops.context import NOT_FOUND, OpsError, out, out_json
from tools.ops.tenants import phone_number, require_tenant


def add(args: argparse.Namespace, ports: Ports) -> int:
    require_tenant(ports, args.tenant)
    if args.number and args.call:
        raise OpsError("a hold is on a number or on a call, not both (place two holds)")
    kind, target = ("number", phone_number(args.number)) if args.number else (
        ("call", args.call) if args.call else ("tenant", None))
    try:
        hold = holds.place(ports.store(), ports.clock().now(), tenant_id=args.tenant, kind=kind, target=target,
                           reason=args.reason, placed_by=args.by)
    except ValueError as exc:
        raise OpsError(f"{args.call!r} is not a call sid" if kind == "call" and "sid" in str(exc) else str(exc)) \
            from None
    if args.json:
        out_json(hold.to_dict())
    else:
        out(f"placed {hold.id}: {hold.kind} hold on {args.tenant}{' ' + hold.target if hold.target else ''}")
    return 0


def list_(args: argparse.Namespace, ports: Ports) -> int:
    if args.tenant:
        require_tenant(ports, args.tenant)
        tenant_ids = [args.tenant]
    else:
        tenant_ids = [t.id for t in list_tenants(ports.store())]
    rows = [h for tid in tenant_ids for h in holds.list_holds(ports.store(), tid, include_released=args.all)]
    rows.sort(key=lambda h: h.placed_at, reverse=True)
    rows = rows[:args.limit]
    if args.json:
        out_json([h.to_dict() for h in rows])
        return 0
    if not rows:
        out("no holds")
        return 0
    out(f"{'ID':<28} {'TENANT':<22} {'KIND':<7} {'TARGET':<36} {'PLACED BY':<16} {'STATE':<9} REASON")
    for h in rows:
        out(f"{h.id:<28} {h.tenant_id:<22} {h.kind:<7} {h.target or '-':<36} {h.placed_by:<16} "
            f"{'active' if h.active else 'released':<9} {h.reason}")
    return 0


def release(args: argparse.Namespace, ports: Ports) -> int:
    require_tenant(ports, args.tenant)
    try:
        hold = holds.release(ports.store(), ports.clock().now(), tenant_id=args.tenant, hold_id=args.hold,
                             released_by=args.by)
    except LookupError as exc:
        raise OpsError(str(exc), NOT_FOUND) from None
    if args.json:
        out_json(hold.to_dict())
    else:
        out(f"released {hold.id} ({hold.kind} hold on {args.tenant})")
    return 0
