"""The team of a business: invitations, acceptance, removal, role changes, ownership transfer.

* An invitation is a single-use link valid 7 days (``shared.accounts.links``), emailed with
  the ``team_invite`` template. Accepting it creates the user (name, password) and signs them in.
* Nobody but an owner touches an owner; an admin cannot make anyone an owner.
* Removing a member deletes the user and its login and ends every session of it at once.
* Transferring ownership makes the new owner ``owner`` and the old one ``admin``, in one
  transaction; both sign in again (their sessions end: a privilege change).
"""

from __future__ import annotations

import datetime as dt

from shared.accounts import audit, links, passwords, sessions
from shared.accounts.errors import AlreadyRegistered, Forbidden, InvalidInput, NotFound
from shared.accounts.principal import Principal
from shared.models.tenant import Role, User, email_key
from shared.notifications import notify_business
from shared.ports import Ports
from shared.tenants import TenantScope, users

INVITE_TTL = dt.timedelta(days=7)


def members(ports: Ports, tenant_id: str) -> list[User]:
    return users(TenantScope(ports.store(), tenant_id))


def _member(ports: Ports, tenant_id: str, user_id: str) -> dict:
    try:
        data = TenantScope(ports.store(), tenant_id).get(f"users/{user_id}")
    except ValueError:
        data = None
    if data is None:
        raise NotFound()
    return data


def invite(ports: Ports, actor: Principal, email: str, role: Role, *, ip: str, user_agent: str,
           accept_url: str) -> str:
    role = Role(role)
    if role == Role.owner:
        raise InvalidInput("Invite as admin, staff or viewer; ownership is transferred, not invited.", field="role")
    store, now = ports.store(), ports.clock().now()
    try:
        User(tenant_id=actor.tenant_id, email=email)
    except ValueError:
        raise InvalidInput("Enter an email address.", field="email") from None
    if store.get(f"user_logins/{email_key(email)}") is not None:
        raise AlreadyRegistered("This person already has a Z3 OS account.", field="email")
    token = links.create(store, "invite", now, INVITE_TTL, tenant_id=actor.tenant_id, email=email.strip(),
                         role=role.value, invited_by=actor.user_id)
    tenant = store.get(f"tenants/{actor.tenant_id}") or {}
    inviter = store.get(f"tenants/{actor.tenant_id}/users/{actor.user_id}") or {}
    notify_business(ports, tenant_id=actor.tenant_id, template="team_invite", to_email=email.strip(),
                    dedup_key=f"invite/{links.digest(token)}",
                    context={"accept_url": f"{accept_url}?token={token}", "role": role.value,
                             "inviter_name": inviter.get("name", ""), "business_name": tenant.get("name", ""),
                             "expires_in_days": 7})
    audit.record(store, now, tenant_id=actor.tenant_id, action="member.invited", actor_user_id=actor.user_id, ip=ip,
                 user_agent=user_agent, changes={"role": role.value})
    return links.digest(token)


def invitation(ports: Ports, token: str | None) -> dict:
    return links.peek(ports.store(), "invite", token, ports.clock().now())


def accept(ports: Ports, token: str | None, name: str, password: str, *, ip: str, user_agent: str) -> tuple[str, str]:
    """Create the invited user; (tenant_id, user_id)."""
    from shared.tenants import add_user

    store, now = ports.store(), ports.clock().now()
    links.peek(store, "invite", token, now)
    if not (name or "").strip():
        raise InvalidInput("Enter your name.", field="name")
    passwords.check_strength(password)
    data = links.consume(store, "invite", token, now)
    try:
        user = add_user(store, data["tenant_id"], email=data["email"], role=Role(data["role"]), name=name.strip(),
                        password_hash=passwords.hash_password(password))
    except ValueError:
        raise AlreadyRegistered("This email already has a Z3 OS account.") from None
    store.update(f"tenants/{data['tenant_id']}/users/{user.id}", {"email_verified_at": now})
    audit.record(store, now, tenant_id=data["tenant_id"], action="member.joined", actor_user_id=user.id, ip=ip,
                 user_agent=user_agent, target=user.id, changes={"role": data["role"]})
    return data["tenant_id"], user.id


def remove(ports: Ports, actor: Principal, user_id: str, *, ip: str, user_agent: str) -> None:
    member = _member(ports, actor.tenant_id, user_id)
    if member["role"] == Role.owner.value:
        raise Forbidden("An owner cannot be removed; transfer ownership first.")
    if user_id == actor.user_id:
        raise Forbidden("You cannot remove yourself.")
    store, now = ports.store(), ports.clock().now()

    def run(tx) -> None:
        tx.delete(f"tenants/{actor.tenant_id}/users/{user_id}")
        tx.delete(f"user_logins/{email_key(member['email'])}")

    store.transaction(run)
    sessions.end_all(store, actor.tenant_id, user_id)
    audit.record(store, now, tenant_id=actor.tenant_id, action="member.removed", actor_user_id=actor.user_id, ip=ip,
                 user_agent=user_agent, target=user_id, changes={"role": member["role"]})


def change_role(ports: Ports, actor: Principal, user_id: str, role: Role, *, ip: str, user_agent: str) -> None:
    role = Role(role)
    member = _member(ports, actor.tenant_id, user_id)
    if role == Role.owner or member["role"] == Role.owner.value:
        raise Forbidden("Ownership changes only by a transfer.")
    store, now = ports.store(), ports.clock().now()
    store.update(f"tenants/{actor.tenant_id}/users/{user_id}", {"role": role.value})
    sessions.end_all(store, actor.tenant_id, user_id)
    audit.record(store, now, tenant_id=actor.tenant_id, action="member.role_changed", actor_user_id=actor.user_id,
                 ip=ip, user_agent=user_agent, target=user_id, changes={"role": [member["role"], role.value]})


def transfer_ownership(ports: Ports, actor: Principal, user_id: str, *, ip: str, user_agent: str) -> None:
    if actor.role != Role.owner:
        raise Forbidden("Only an owner can transfer ownership.")
    member = _member(ports, actor.tenant_id, user_id)
    if user_id == actor.user_id or member.get("status") != "active":
        raise InvalidInput("Choose another active member.")
    store, now = ports.store(), ports.clock().now()

    def run(tx) -> None:
        tx.update(f"tenants/{actor.tenant_id}/users/{user_id}", {"role": Role.owner.value})
        tx.update(f"tenants/{actor.tenant_id}/users/{actor.user_id}", {"role": Role.admin.value})

    store.transaction(run)
    sessions.end_all(store, actor.tenant_id, user_id)
    sessions.end_all(store, actor.tenant_id, actor.user_id)
    audit.record(store, now, tenant_id=actor.tenant_id, action="member.ownership_transferred",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=user_id,
                 changes={"owner": [actor.user_id, user_id]})
