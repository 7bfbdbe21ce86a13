"""``scripts/ops user ...``: a business's team members."""

from __future__ import annotations

import argparse

from shared import tenants
from shared.models.tenant import Role, User
from shared.runtime import Ports
from shared.tenants import TenantScope
from tools.ops.context import out, out_json
from tools.ops.email import email_address
from tools.ops.tenants import require_tenant


def add(args: argparse.Namespace, ports: Ports) -> int:
    user = tenants.add_user(ports.store(), args.tenant, email=email_address(args.email), role=Role(args.role),
                            name=args.name, settings=ports.settings)
    out(f"added {user.id} ({user.role}) to {args.tenant}")
    return 0


def list_(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    scope = TenantScope(ports.store(), tenant.id)
    docs = scope.query(scope.collection("users").order_by("created_at", "desc").page(args.limit))
    users = [User.from_doc(d.data) for d in docs]
    if args.json:  # the password hash is nobody's business, the operator's included
        out_json([u.model_dump(mode="json", exclude={"password_hash"}) for u in users])
        return 0
    if not users:
        out(f"no users at {tenant.id}")
        return 0
    out(f"{'ID':<28} {'ROLE':<7} {'STATUS':<9} {'EMAIL':<36} NAME")
    for u in users:
        out(f"{u.id:<28} {u.role:<7} {u.status:<9} {u.email:<36} {u.name}")
    return 0
