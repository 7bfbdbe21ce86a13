"""Two-factor authentication: TOTP (pyotp, RFC 6238, 30 s, 6 digits) and recovery codes.

* The TOTP secret is encrypted with the Cipher port (KMS envelope in production), bound to the
  tenant and user (``context``); the user document holds only the ciphertext.
* Setting up: a pending secret, shown as a QR code (segno, SVG) and as text; 2FA is on only
  after a correct code. Then 10 single-use recovery codes are shown once and stored as sha256
  hashes (each is 50 random bits, so a plain hash is enough).
* A code is accepted once: the last accepted 30-second step is remembered, so a code seen over
  a shoulder cannot be replayed within its window.
* Turning 2FA off needs the password and a current code, and sends a security-alert email.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import secrets

from shared.accounts import audit, passwords
from shared.accounts.errors import BadCode, Forbidden
from shared.notifications import notify_business
from shared.ports import Ports

ISSUER = "Z3 OS"
RECOVERY_CODES = 10


def _context(tenant_id: str, user_id: str) -> str:
    return f"totp:{tenant_id}:{user_id}"


def _user_path(tenant_id: str, user_id: str) -> str:
    return f"tenants/{tenant_id}/users/{user_id}"


def _seal(ports: Ports, tenant_id: str, user_id: str, secret: str) -> str:
    return base64.b64encode(ports.cipher().encrypt(secret.encode(), _context(tenant_id, user_id))).decode()


def _open(ports: Ports, tenant_id: str, user_id: str, sealed: str) -> str:
    return ports.cipher().decrypt(base64.b64decode(sealed), _context(tenant_id, user_id)).decode()


def begin(ports: Ports, tenant_id: str, user: dict) -> tuple[str, str]:
    """A new pending secret: (secret as text, QR code as an SVG document)."""
    import pyotp
    import segno

    secret = pyotp.random_base32()
    ports.store().update(_user_path(tenant_id, user["id"]),
                         {"totp_pending": _seal(ports, tenant_id, user["id"], secret)})
    uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=ISSUER)
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title="2FA QR code")
    return secret, out.getvalue().decode()


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _totp_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The step ``code`` belongs to (now, or one step either side), if not used before."""
    import pyotp

    totp = pyotp.TOTP(secret)
    code = (code or "").replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    step_now = int(now.timestamp()) // totp.interval
    for step in (step_now, step_now - 1, step_now + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return None if last_step is not None and step <= last_step else step
    return None


def confirm(ports: Ports, tenant_id: str, user: dict, code: str, *, ip: str, user_agent: str) -> list[str]:
    """Turn 2FA on with a correct code for the pending secret; the recovery codes (shown once)."""
    store, now = ports.store(), ports.clock().now()
    sealed = user.get("totp_pending")
    if not sealed:
        raise BadCode("Start the set-up again.")
    secret = _open(ports, tenant_id, user["id"], sealed)
    step = _totp_step(secret, code, now, None)
    if step is None:
        raise BadCode()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    store.update(_user_path(tenant_id, user["id"]), {
        "totp": {"enabled": True, "secret": sealed, "last_step": step, "enabled_at": now,
                 "recovery": [_hash_code(c) for c in codes]},
        "totp_pending": None})
    audit.record(store, now, tenant_id=tenant_id, action="2fa.enabled", actor_user_id=user["id"], ip=ip,
                 user_agent=user_agent)
    return codes


def check(ports: Ports, tenant_id: str, user: dict, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code (which is then spent); which one."""
    store, now = ports.store(), ports.clock().now()
    totp = user.get("totp") or {}
    if not totp.get("enabled"):
        raise BadCode()
    path = _user_path(tenant_id, user["id"])
    secret = _open(ports, tenant_id, user["id"], totp["secret"])
    step = _totp_step(secret, code, now, totp.get("last_step"))
    if step is not None:
        store.update(path, {"totp.last_step": step})
        return "totp"
    wanted = _hash_code(code or "")

    def spend(tx) -> bool:
        current = (tx.get(path) or {}).get("totp") or {}
        remaining = list(current.get("recovery") or [])
        if wanted not in remaining:
            return False
        remaining.remove(wanted)
        tx.update(path, {"totp.recovery": remaining})
        return True

    if code and store.transaction(spend):
        return "recovery_code"
    raise BadCode()


def disable(ports: Ports, tenant_id: str, user: dict, password: str, code: str, *, ip: str, user_agent: str,
            required_by_business: bool) -> None:
    store, now = ports.store(), ports.clock().now()
    if required_by_business:
        raise Forbidden("Your business requires two-factor authentication for every member.")
    ok, _ = passwords.verify(user.get("password_hash"), password or "")
    if not ok:
        raise BadCode("The password or the code is not correct.")
    try:
        check(ports, tenant_id, user, code)
    except BadCode:
        raise BadCode("The password or the code is not correct.") from None
    store.update(_user_path(tenant_id, user["id"]), {"totp": None, "totp_pending": None})
    audit.record(store, now, tenant_id=tenant_id, action="2fa.disabled", actor_user_id=user["id"], ip=ip,
                 user_agent=user_agent)
    notify_business(ports, tenant_id=tenant_id, template="security_alert", to_user_id=user["id"],
                    dedup_key=f"2fa-off/{user['id']}/{now.isoformat()}",
                    context={"event": "Two-factor authentication was turned off",
                             "details": "Signing in to your account now needs only your password.",
                             "occurred_at": now.isoformat(), "ip": ip, "device": user_agent[:120]})


def set_required(ports: Ports, tenant_id: str, actor_id: str, required: bool, *, ip: str, user_agent: str) -> None:
    store, now = ports.store(), ports.clock().now()
    before = bool(((store.get(f"tenants/{tenant_id}") or {}).get("security") or {}).get("require_2fa"))
    store.update(f"tenants/{tenant_id}", {"security.require_2fa": required})
    audit.record(store, now, tenant_id=tenant_id, action="settings.changed", actor_user_id=actor_id, ip=ip,
                 user_agent=user_agent, changes={"security.require_2fa": [before, required]})


def required(tenant: dict) -> bool:
    return bool((tenant.get("security") or {}).get("require_2fa"))
