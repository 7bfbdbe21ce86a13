"""Signing in with email and password, and what follows a successful sign-in.

:func:`check_password` is the first step: throttles first (before any hash is computed), then
the login lookup and one Argon2 verification whether or not the account exists (a dummy hash
for an unknown email), so a wrong email and a wrong password look and take the same. A failure
counts against the account (by email hash) and the IP; the failure that locks an account
emails its owner an unlock link.

:func:`complete` runs once the second factor (if any) passed: the account counter is cleared,
the hash re-made when the parameters changed, the sign-in audited, and a sign-in from a device
and a network (IPv4 /24, IPv6 /48) neither seen before sends a security alert.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from shared.accounts import audit, links, passwords, throttle
from shared.accounts.errors import BadCredentials
from shared.models.tenant import email_key
from shared.notifications import notify_business
from shared.ports import Ports

UNLOCK_TTL = dt.timedelta(hours=24)
MAX_KNOWN = 20


@dataclass(frozen=True)
class Client:
    ip: str
    ip_prefix: str
    user_agent: str
    device_id: str | None  # the long-lived device cookie, if the browser has one


@dataclass(frozen=True)
class Account:
    tenant_id: str
    user_id: str
    user: dict[str, Any]

    @property
    def role(self) -> str:
        return self.user["role"]

    @property
    def totp_enabled(self) -> bool:
        return bool((self.user.get("totp") or {}).get("enabled"))


def find(ports: Ports, email: str) -> Account | None:
    store = ports.store()
    login = store.get(f"user_logins/{email_key(email)}")
    if not login:
        return None
    user = store.get(f"tenants/{login['tenant_id']}/users/{login['user_id']}")
    if not user:
        return None
    return Account(login["tenant_id"], login["user_id"], user)


def check_password(ports: Ports, email: str, password: str, client: Client, *, unlock_url: str) -> Account:
    store, now = ports.store(), ports.clock().now()
    key = email_key(email or "")
    throttle.check(store, throttle.IP, client.ip, now)
    throttle.check(store, throttle.ACCOUNT, key, now)
    account = find(ports, email or "")
    usable = account is not None and account.user.get("status") == "active"
    ok, rehash = passwords.verify(account.user.get("password_hash") if usable else None, password or "")
    if ok and usable:
        if rehash:
            store.update(f"tenants/{account.tenant_id}/users/{account.user_id}",
                         {"password_hash": passwords.hash_password(password)})
        return account
    throttle.failed(store, throttle.IP, client.ip, now)
    locked = throttle.failed(store, throttle.ACCOUNT, key, now)
    if account is not None:
        audit.record(store, now, tenant_id=account.tenant_id, action="signin.failed", actor_user_id=account.user_id,
                     ip=client.ip, user_agent=client.user_agent)
        if locked:
            _send_unlock(ports, account, client, now, unlock_url)
    raise BadCredentials()


def _send_unlock(ports: Ports, account: Account, client: Client, now: dt.datetime, unlock_url: str) -> None:
    store = ports.store()
    token = links.create(store, "unlock", now, UNLOCK_TTL, email_key=email_key(account.user["email"]),
                         tenant_id=account.tenant_id, user_id=account.user_id)
    audit.record(store, now, tenant_id=account.tenant_id, action="signin.locked", actor_user_id=None,
                 ip=client.ip, user_agent=client.user_agent, target=account.user_id)
    notify_business(ports, tenant_id=account.tenant_id, template="security_alert", to_user_id=account.user_id,
                    dedup_key=f"unlock/{links.digest(token)}",
                    context={"event": "Your account was locked after many failed sign-ins",
                             "details": "Someone tried many wrong passwords for your account. If it was you, "
                                        "unlock it with the link below; if not, the lock lifts by itself in an hour "
                                        "and your password still protects the account.",
                             "occurred_at": now.isoformat(), "ip": client.ip, "device": client.user_agent[:120],
                             "action_url": f"{unlock_url}?token={token}", "action_label": "Unlock your account"})


def unlock(ports: Ports, token: str | None) -> str:
    """Lift a lock by its emailed link; the tenant id (for the audit)."""
    store, now = ports.store(), ports.clock().now()
    data = links.consume(store, "unlock", token, now)
    throttle.clear(store, throttle.ACCOUNT, data["email_key"])
    audit.record(store, now, tenant_id=data["tenant_id"], action="signin.unlocked", actor_user_id=data["user_id"])
    return data["tenant_id"]


def _device_hash(device_id: str) -> str:
    return hashlib.sha256(device_id.encode()).hexdigest()[:32]


def complete(ports: Ports, account: Account, client: Client, *, method: str, security_url: str) -> None:
    store, now = ports.store(), ports.clock().now()
    throttle.clear(store, throttle.ACCOUNT, email_key(account.user["email"]))
    known = account.user.get("known_devices") or []
    prefixes = account.user.get("known_networks") or []
    device = _device_hash(client.device_id) if client.device_id else None
    new_place = bool(known or prefixes) and device not in known and client.ip_prefix not in prefixes
    update = {"last_signin_at": now,
              "known_devices": ([device] + [d for d in known if d != device])[:MAX_KNOWN] if device else known,
              "known_networks": ([client.ip_prefix] + [p for p in prefixes if p != client.ip_prefix])[:MAX_KNOWN]
              if client.ip_prefix else prefixes}
    store.update(f"tenants/{account.tenant_id}/users/{account.user_id}", update)
    audit.record(store, now, tenant_id=account.tenant_id, action="signin.succeeded", actor_user_id=account.user_id,
                 ip=client.ip, user_agent=client.user_agent, changes={"method": method, "new_device": new_place})
    if new_place:
        notify_business(ports, tenant_id=account.tenant_id, template="security_alert", to_user_id=account.user_id,
                        dedup_key=f"new-device/{account.user_id}/{now.isoformat()}",
                        context={"event": "New sign-in to your account",
                                 "details": "Your account was signed in from a device and network it has not used "
                                            "before.",
                                 "occurred_at": now.isoformat(), "ip": client.ip, "device": client.user_agent[:120],
                                 "action_url": security_url, "action_label": "Review your sessions"})


def remember_first_device(ports: Ports, tenant_id: str, user_id: str, client: Client) -> None:
    """Sign-up and invitation acceptance: the device that created the account is known."""
    update: dict[str, Any] = {"known_networks": [client.ip_prefix] if client.ip_prefix else []}
    if client.device_id:
        update["known_devices"] = [_device_hash(client.device_id)]
    ports.store().update(f"tenants/{tenant_id}/users/{user_id}", update)
