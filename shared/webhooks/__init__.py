"""Webhook signature verification, one module per provider, on the raw request bytes.

Every verifier fails closed: a missing secret, a missing, empty or malformed signature header,
a stale timestamp, a forged signature or a tampered body raise :class:`InvalidSignature`
(the function answers 403 and processes nothing). A body that is correctly signed but cannot
be parsed raises :class:`MalformedPayload` (answer 400). Nothing else escapes a verifier; a
missing SDK (``ImportError``) is a broken deployment and is left loud on purpose.

Use::

    from shared.webhooks import InvalidSignature, MalformedPayload
    from shared.webhooks.twilio import verify_twilio   # likewise .retell, .stripe, .intuit, .resend

Importing this package or any of its modules imports no provider SDK: each verifier imports its
SDK when it is called. Reasons are short, fixed phrases: never body content, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Retell, Stripe and Resend (Svix) refuse signatures whose timestamp is further than this from now.
TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The request is not provably from the provider: answer 403, process nothing."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class MalformedPayload(ValueError):
    """Correctly signed, but the body is not what the provider sends: answer 400."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


# --- helpers shared by the provider modules -------------------------------------------------


def _secret(settings: Any, name: str, provider: str) -> str:
    """The plain value of a secret setting; empty (or whitespace) means "not configured"."""
    value = settings.secret(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignature(provider, "secret not configured")
    return value


def _header(value: object, provider: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignature(provider, f"missing {name} header")
    return value


def _text(raw_body: bytes, provider: str) -> str:
    """The body as the text the provider signed (UTF-8); anything else cannot be genuine."""
    if isinstance(raw_body, str):
        return raw_body
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise InvalidSignature(provider, "body is not bytes")
    try:
        return bytes(raw_body).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature(provider, "body is not UTF-8 text") from None


def _get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header look-up that works on a plain dict as well as on werkzeug's."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == lowered:
                return candidate
    return value


__all__ = ["TOLERANCE_SECONDS", "InvalidSignature", "MalformedPayload"]
