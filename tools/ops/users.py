"""``scripts/ops user ...`` and ``api-token ...``: a business's team members, their sign-in lock and
their personal API tokens."""

from __future__ import annotations

import argparse

from shared import tenants
from shared.accounts import audit, links, throttle, tokens
from shared.accounts.errors import AccountError
from shared.accounts.errors import NotFound as AccountNotFound
from shared.models.tenant import Role, User, email_key
from shared.runtime import Ports
from shared.tenants import TenantScope
from tools.ops.context import BAD_INPUT, NOT_FOUND, OpsError, out, out_json
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


def _login(ports: Ports, email: str) -> dict:
    login = ports.store().get(f"user_logins/{email_key(email)}")
    if login is None:
        raise OpsError(f"no user with the email {email}", NOT_FOUND)
    return login


def unlock(args: argparse.Namespace, ports: Ports) -> int:
    """Lift the sign-in lock (10 failures lock an account for an hour) and forget the failures."""
    email = email_address(args.email)
    login = _login(ports, email)
    store, now = ports.store(), ports.clock().now()
    throttle.clear(store, throttle.ACCOUNT, email_key(email))
    links.revoke(store, "unlock", email_key=email_key(email))  # the emailed unlock link is moot now
    audit.record(store, now, tenant_id=login["tenant_id"], action="signin.unlocked", actor_user_id=None,
                 target=login["user_id"], changes={"by": "operator"})
    out(f"sign-in of {login['user_id']} at {login['tenant_id']} unlocked (failed attempts forgotten)")
    return 0


def api_token_create(args: argparse.Namespace, ports: Ports) -> int:
    """A personal API token for a member, printed once (only its keyed hash is stored)."""
    tenant = require_tenant(ports, args.tenant)
    email = email_address(args.email)
    login = _login(ports, email)
    if login["tenant_id"] != tenant.id:
        raise OpsError(f"no user with the email {email} at {tenant.id}", NOT_FOUND)
    try:
        token, secret = tokens.create(ports.store(), ports.clock().now(), ports.settings.secret("z3_api_token_pepper"),
                                      tenant_id=tenant.id, user_id=login["user_id"], name=args.name,
                                      scope=args.scope)
    except AccountError as exc:
        raise OpsError(exc.message, NOT_FOUND if isinstance(exc, AccountNotFound) else BAD_INPUT) from None
    out(f"created {token.id} ({token.scope}) for {login['user_id']} at {tenant.id}; the token, shown once:")
    out(secret)
    return 0
