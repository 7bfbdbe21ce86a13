"""``scripts/ops tenant ...`` and ``number ...``: businesses and the phone-number registry."""

from __future__ import annotations

import argparse

from shared import tenants
from shared.models.tenant import Tenant, TenantStatus
from shared.phone import normalize_us
from shared.ports import Query
from shared.runtime import Ports
from tools.ops.context import NOT_FOUND, OpsError, out, out_json
from tools.ops.email import email_address


def require_tenant(ports: Ports, tenant_id: str) -> Tenant:
    tenant = tenants.get_tenant(ports.store(), tenant_id)
    if tenant is None:
        raise OpsError(f"no tenant {tenant_id}", NOT_FOUND)
    return tenant


def phone_number(raw: str) -> str:
    """The E.164 form of what the operator typed, or one line saying why it is not a number."""
    try:
        return normalize_us(raw)
    except ValueError as exc:
        raise OpsError(f"{raw!r} is {exc}") from None


def create(args: argparse.Namespace, ports: Ports) -> int:
    tenant = tenants.create_tenant(
        ports.store(), name=args.name, contact_name=args.contact or args.name, contact_email=email_address(args.email),
        time_zone=args.time_zone, country=args.country, numbers=[phone_number(n) for n in args.number or []],
        tenant_id=args.id,
    )
    out(f"created {tenant.id}  {tenant.name}  numbers: {', '.join(tenant.numbers) or '-'}")
    return 0


def list_(args: argparse.Namespace, ports: Ports) -> int:
    docs = ports.store().query(Query("tenants").order_by("created_at", "desc").page(args.limit))
    rows = [Tenant.from_doc(d.data) for d in docs]
    if args.json:
        out_json([t.to_doc() for t in rows])
        return 0
    if not rows:
        out("no tenants")
        return 0
    out(f"{'ID':<22} {'STATUS':<22} {'TIME ZONE':<20} {'NUMBERS':<28} NAME")
    for t in rows:
        out(f"{t.id:<22} {t.status:<22} {t.time_zone:<20} {','.join(t.numbers) or '-':<28} {t.name}")
    return 0


def show(args: argparse.Namespace, ports: Ports) -> int:
    out_json(require_tenant(ports, args.tenant).to_doc())
    return 0


def status(args: argparse.Namespace, ports: Ports) -> int:
    tenant = tenants.set_status(ports.store(), args.tenant, TenantStatus(args.status), args.reason)
    out(f"{tenant.id} is now {tenant.status}")
    return 0


def number_assign(args: argparse.Namespace, ports: Ports) -> int:
    number = phone_number(args.number)
    tenants.assign_number(ports.store(), args.tenant, number, settings=ports.settings)
    out(f"{number} -> {args.tenant}")
    return 0


def number_release(args: argparse.Namespace, ports: Ports) -> int:
    number = phone_number(args.number)
    released = tenants.release_number(ports.store(), args.tenant, number)
    if not released:
        raise OpsError(f"{args.tenant} does not have {number}: nothing released", NOT_FOUND)
    out(f"released {number} from {args.tenant}")
    return 0


def number_lookup(args: argparse.Namespace, ports: Ports) -> int:
    number = phone_number(args.number)
    tenant = tenants.tenant_for_number(ports.store(), number)
    if args.json:
        out_json({"number": number, "tenant": tenant.id if tenant else None, "name": tenant.name if tenant else None})
    else:
        out(f"{number} -> {tenant.id} ({tenant.name})" if tenant else f"{number} is not assigned")
    return 0 if tenant else NOT_FOUND
