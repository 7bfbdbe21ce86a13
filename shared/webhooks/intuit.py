"""QuickBooks Online (Intuit): ``intuit-signature`` = base64 HMAC-SHA256(verifier token, raw body).

intuit-oauth (``intuitlib``) has no webhook helper, so this is the documented computation, over
the exact raw bytes, compared in constant time. Intuit signatures carry no timestamp: replays
are stopped by idempotency on the notification's ids, not here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from shared.webhooks import InvalidSignature, _header, _secret

PROVIDER = "intuit"
SIGNATURE_HEADER = "intuit-signature"


def verify_intuit(settings: Any, *, raw_body: bytes, signature: str | None) -> None:
    """Raise :class:`InvalidSignature` unless Intuit signed exactly these bytes."""
    token = _secret(settings, "intuit_verifier_token", PROVIDER)
    signature = _header(signature, PROVIDER, SIGNATURE_HEADER)
    if not signature.isascii():
        raise InvalidSignature(PROVIDER, "malformed signature header")
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise InvalidSignature(PROVIDER, "body is not bytes")
    expected = base64.b64encode(hmac.new(token.encode("utf-8"), raw_body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.encode("ascii")):
        raise InvalidSignature(PROVIDER, "signature mismatch")
