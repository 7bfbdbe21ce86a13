"""Password reset and password change.

A reset link is single use and lives 30 minutes (``shared.accounts.links``: only its hash is
stored); asking again replaces the earlier link. Asking for an unknown email answers the same
as for a real one and sends nothing. Setting the new password signs out every session of the
account (a reset) or every other one (a change), and is audited.
"""

from __future__ import annotations

import datetime as dt

from shared.accounts import audit, links, passwords, sessions, signin, throttle
from shared.accounts.errors import BadCredentials
from shared.models.tenant import email_key
from shared.notifications import notify_business
from shared.ports import Ports

RESET_TTL = dt.timedelta(minutes=30)


def request_reset(ports: Ports, email: str, *, ip: str, reset_url: str) -> None:
    account = signin.find(ports, email or "")
    if account is None or account.user.get("status") == "disabled":
        return
    store, now = ports.store(), ports.clock().now()
    links.revoke(store, "reset", tenant_id=account.tenant_id, user_id=account.user_id)
    token = links.create(store, "reset", now, RESET_TTL, tenant_id=account.tenant_id, user_id=account.user_id)
    notify_business(ports, tenant_id=account.tenant_id, template="password_reset", to_user_id=account.user_id,
                    dedup_key=f"reset/{links.digest(token)}",
                    context={"reset_url": f"{reset_url}?token={token}", "expires_in_minutes": 30,
                             "requested_from": ip, "requested_at": now.isoformat()})


def reset(ports: Ports, token: str | None, new_password: str, *, ip: str, user_agent: str) -> None:
    passwords.check_strength(new_password)
    store, now = ports.store(), ports.clock().now()
    data = links.consume(store, "reset", token, now)
    path = f"tenants/{data['tenant_id']}/users/{data['user_id']}"
    user = store.get(path)
    if user is None:
        return
    store.update(path, {"password_hash": passwords.hash_password(new_password), "status": "active",
                        "password_changed_at": now})
    ended = sessions.end_all(store, data["tenant_id"], data["user_id"])
    throttle.clear(store, throttle.ACCOUNT, email_key(user["email"]))
    audit.record(store, now, tenant_id=data["tenant_id"], action="password.reset", actor_user_id=data["user_id"],
                 ip=ip, user_agent=user_agent, changes={"sessions_ended": ended})


def change(ports: Ports, tenant_id: str, user: dict, current_password: str, new_password: str, *,
           keep_session_key: str | None, ip: str, user_agent: str) -> None:
    ok, _ = passwords.verify(user.get("password_hash"), current_password or "")
    if not ok:
        raise BadCredentials()
    passwords.check_strength(new_password)
    store, now = ports.store(), ports.clock().now()
    store.update(f"tenants/{tenant_id}/users/{user['id']}",
                 {"password_hash": passwords.hash_password(new_password), "password_changed_at": now})
    ended = sessions.end_all(store, tenant_id, user["id"], keep_key=keep_session_key)
    audit.record(store, now, tenant_id=tenant_id, action="password.changed", actor_user_id=user["id"], ip=ip,
                 user_agent=user_agent, changes={"sessions_ended": ended})
