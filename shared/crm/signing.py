"""Standard Webhooks signatures (https://www.standardwebhooks.com), what every CRM delivery
carries: ``webhook-id`` (the message id, the same on every retry so the receiver can dedup),
``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature`` =
``v1,`` + base64 HMAC-SHA256(key, ``"{id}.{timestamp}.{body}"``), where the endpoint's secret
is ``whsec_`` + base64(key). The receiver checks it with any Standard Webhooks library
(tests check ours against the ``standardwebhooks`` reference package)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret, ``whsec_<base64 of 32 random bytes>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):])


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, msg_id, timestamp, body), "Content-Type": "application/json"}
