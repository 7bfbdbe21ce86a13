"""``scripts/ops privacy request|verify|extend|list|show|run``: privacy requests that came by
email (``shared.privacy.requests``). A request is received, then verified (``verify``: how the
requester's identity was checked), which acknowledges it and queues its job; ``run`` carries it
out now (the queued job then finds it done). ``list`` marks overdue requests."""

from __future__ import annotations

import argparse
from typing import Any

from shared.privacy import requests
from shared.privacy.erase import DeletionRefused
from shared.runtime import Ports
from shared.tenants import list_tenants
from tools.ops.context import NOT_FOUND, REFUSED, OpsError, out, out_json
from tools.ops.email import email_address
from tools.ops.tenants import phone_number, require_tenant


def _correction(pairs: list[str] | None) -> dict[str, str]:
    fixed = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not value.strip():
            raise OpsError(f"{pair!r} is not FIELD=VALUE")
        fixed[key.strip()] = value.strip()
    return fixed


def _find(ports: Ports, request_id: str) -> tuple[str, requests.Request]:
    try:
        return requests.find(ports, request_id)
    except LookupError as exc:
        raise OpsError(str(exc), NOT_FOUND) from None


def _row(tenant_id: str, request: requests.Request, now: Any) -> dict[str, Any]:
    return {**request.data, "tenant_id": tenant_id, "overdue": request.overdue(now)}


def _print(tenant_id: str, request: requests.Request, as_json: bool, now: Any) -> None:
    if as_json:
        out_json(_row(tenant_id, request, now))
        return
    data = request.data
    out(f"{request.id}  {data['kind']}  {data['subject']}  {request.status}  tenant {tenant_id}")
    out(f"  received {data['received_at']}, acknowledge by {data['acknowledge_by']}, complete by {request.due()}")
    for entry in data.get("history", []):
        out(f"  {entry['at']}  {entry['status']:<13} by {entry['by']}{'  ' + entry['note'] if entry['note'] else ''}")
    if request.overdue(now):
        out(f"  OVERDUE: {', '.join(request.overdue(now))}")


def request(args: argparse.Namespace, ports: Ports) -> int:
    require_tenant(ports, args.tenant)
    made = requests.create(ports, tenant_id=args.tenant, kind=args.kind,
                           number=phone_number(args.number) if args.number else None,
                           email=email_address(args.email) if args.email else None, channel="email", by=args.by,
                           child=args.child, correction=_correction(args.set))
    if args.json:
        out_json(_row(args.tenant, made, ports.clock().now()))
    else:
        out(made.id)
    return 0


def verify(args: argparse.Namespace, ports: Ports) -> int:
    tenant_id, found = _find(ports, args.id)
    verified = requests.verify(ports, tenant_id, found.id, by=args.by, method=args.method)
    _print(tenant_id, verified, args.json, ports.clock().now())
    return 0


def extend(args: argparse.Namespace, ports: Ports) -> int:
    tenant_id, found = _find(ports, args.id)
    extended = requests.extend(ports, tenant_id, found.id, days=args.days, reason=args.reason, by=args.by)
    _print(tenant_id, extended, args.json, ports.clock().now())
    return 0


def list_(args: argparse.Namespace, ports: Ports) -> int:
    now = ports.clock().now()
    if args.tenant:
        require_tenant(ports, args.tenant)
    tenant_ids = [args.tenant] if args.tenant else [t.id for t in list_tenants(ports.store())]
    if args.overdue:
        rows = [(tid, r) for tid, r, _late in requests.overdue(ports, now) if tid in tenant_ids]
    else:
        rows = [(tid, r) for tid in tenant_ids for r in requests.list_requests(ports, tid)]
    rows = sorted(rows, key=lambda row: row[1].data["received_at"], reverse=True)[:args.limit]
    if args.json:
        out_json([_row(tid, r, now) for tid, r in rows])
        return 0
    if not rows:
        out("no privacy requests")
        return 0
    out(f"{'ID':<22} {'TENANT':<22} {'KIND':<18} {'SUBJECT':<8} {'STATUS':<13} {'DUE':<26} OVERDUE")
    for tid, r in rows:
        out(f"{r.id:<22} {tid:<22} {r.data['kind']:<18} {r.data['subject']:<8} {r.status:<13} "
            f"{r.due().isoformat():<26} {','.join(r.overdue(now)) or '-'}")
    return 0


def show(args: argparse.Namespace, ports: Ports) -> int:
    if args.json:
        try:
            tenant_id, found = requests.find(ports, args.id)
        except LookupError:
            out_json({"id": args.id, "found": False})
            return NOT_FOUND
    else:
        tenant_id, found = _find(ports, args.id)
    _print(tenant_id, found, args.json, ports.clock().now())
    return 0


def run(args: argparse.Namespace, ports: Ports) -> int:
    tenant_id, found = _find(ports, args.id)
    try:
        done = requests.run(ports, tenant_id, found.id, by=args.by)
    except requests.NotVerified as exc:
        raise OpsError(f"{exc}: scripts/ops privacy verify {found.id} --method ... first", REFUSED) from None
    except DeletionRefused as exc:
        raise OpsError(str(exc), REFUSED) from None
    if args.json:
        out_json(_row(tenant_id, done, ports.clock().now()))
    else:
        out(f"{done.id}: {done.status}" + (f" ({done.data['result']})" if done.data.get("result") else ""))
    return 0
