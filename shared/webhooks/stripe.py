"""Stripe: ``Stripe-Signature: t={unix s},v1={hex HMAC-SHA256(whsec, "t.payload")}[,v1=...]``.

Checked with the SDK: ``stripe.WebhookSignature.verify_header`` first (every failure there,
including the ones the SDK does not wrap, is a 403), then ``stripe.Webhook.construct_event``
builds the event from the verified body (a failure there is a correctly signed body that is not
a Stripe event: 400). Stripe's tolerance is one-sided: it refuses timestamps older than 5
minutes and does not refuse ones in the future.

Stripe delivers duplicates and out of order for days: the caller dedups on ``event["id"]``.
"""

from __future__ import annotations

from typing import Any

from shared.webhooks import TOLERANCE_SECONDS, InvalidSignature, MalformedPayload, _header, _secret, _text

PROVIDER = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"

# The SDK's messages, turned into our fixed reasons (its messages are not an API: unknown
# ones fall back to a generic reason).
_REASONS = (
    ("No signatures found matching", "signature mismatch"),
    ("Timestamp outside the tolerance zone", "timestamp outside the 5-minute tolerance"),
    ("Unable to extract timestamp", "malformed signature header"),
    ("No signatures found with expected scheme", "malformed signature header"),
)


def _reason(exc: Exception) -> str:
    message = getattr(exc, "user_message", None) or (exc.args[0] if exc.args else "")
    for prefix, reason in _REASONS:
        if isinstance(message, str) and message.startswith(prefix):
            return reason
    return "signature rejected"


def verify_stripe(settings: Any, *, raw_body: bytes, signature: str | None) -> dict:
    """The verified event as a plain dict; :class:`InvalidSignature` or :class:`MalformedPayload`."""
    secret = _secret(settings, "stripe_webhook_secret", PROVIDER)
    header = _header(signature, PROVIDER, SIGNATURE_HEADER)
    # Decode here: the SDK would raise UnicodeDecodeError (a ValueError) before checking anything.
    payload = _text(raw_body, PROVIDER)

    import stripe

    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
    except Exception as exc:  # noqa: BLE001 - e.g. TypeError from compare_digest on a non-ASCII v1
        # ``from None``: the SDK's exception carries the body, which must not reach a traceback.
        raise InvalidSignature(PROVIDER, _reason(exc)) from None
    try:
        event = stripe.Webhook.construct_event(payload, header, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:  # only a tolerance edge crossed between the calls
        raise InvalidSignature(PROVIDER, _reason(exc)) from None
    except Exception:  # noqa: BLE001 - bad JSON (ValueError), a thin v2 event, a non-object body
        raise MalformedPayload(PROVIDER, "signed body is not a Stripe event") from None
    try:
        return event.to_dict()
    except Exception:  # noqa: BLE001
        raise MalformedPayload(PROVIDER, "signed body is not a Stripe event") from None
