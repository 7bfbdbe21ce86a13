"""Resend: Svix-style ``svix-id``, ``svix-timestamp`` (unix s), ``svix-signature``
(``v1,<base64 HMAC-SHA256(base64-decoded whsec secret, "id.timestamp.body")>``, space-separated
when several).

Checked with the SDK's own ``resend.Webhooks.verify({"payload", "headers": {"id", "timestamp",
"signature"}, "webhook_secret"})``: 5-minute tolerance in both directions, constant-time
comparison, and it parses the verified body as JSON. It raises ``ValueError`` for everything; a
correctly signed body that is not JSON is told apart by the ``JSONDecodeError`` it chains.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.webhooks import InvalidSignature, MalformedPayload, _get_header, _header, _secret, _text

PROVIDER = "resend"

_REASONS = (
    ("timestamp outside tolerance window", "timestamp outside the 5-minute tolerance"),
    ("invalid timestamp format", "malformed svix-timestamp header"),
    ("no matching signature found", "signature mismatch"),
    ("failed to decode webhook secret", "secret not usable"),
    ("payload cannot be empty", "empty body"),
)


def _reason(exc: Exception) -> str:
    message = exc.args[0] if exc.args else ""
    for prefix, reason in _REASONS:
        if isinstance(message, str) and message.startswith(prefix):
            return reason
    return "signature rejected"


def verify_resend(settings: Any, *, raw_body: bytes, headers: Mapping[str, str]) -> None:
    """Raise :class:`InvalidSignature` unless Resend (Svix) signed this body within 5 minutes."""
    secret = _secret(settings, "resend_webhook_secret", PROVIDER)
    if headers is None:
        headers = {}
    svix = {
        "id": _header(_get_header(headers, "svix-id"), PROVIDER, "svix-id"),
        "timestamp": _header(_get_header(headers, "svix-timestamp"), PROVIDER, "svix-timestamp"),
        "signature": _header(_get_header(headers, "svix-signature"), PROVIDER, "svix-signature"),
    }
    payload = _text(raw_body, PROVIDER)

    import resend

    try:
        resend.Webhooks.verify({"payload": payload, "headers": svix, "webhook_secret": secret})
    except ValueError as exc:
        if isinstance(exc.__cause__, json.JSONDecodeError):  # raised only after a matching signature
            raise MalformedPayload(PROVIDER, "signed body is not JSON") from None
        raise InvalidSignature(PROVIDER, _reason(exc)) from None
    except Exception:  # noqa: BLE001 - whatever the SDK trips on, the request is not proven
        raise InvalidSignature(PROVIDER, "signature could not be checked") from None
