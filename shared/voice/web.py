"""Start-up warming of the voice functions' ``main.py``.

``warm`` runs when a function instance starts (module import of ``main.py``), so a caller never
waits for an import the instance could have done before the call arrived.
"""

from __future__ import annotations


def warm(*, twiml: bool = False) -> None:
    """Import at start-up what the request path needs: signature checking, phone numbers and
    TwiML rendering (``voice_answer`` warms the Retell SDK itself: ``shared.warmup``)."""
    import phonenumbers  # noqa: F401  (normalising From/To on every call)

    import shared.webhooks.twilio  # noqa: F401
    import twilio.request_validator  # noqa: F401

    if twiml:
        import twilio.twiml.voice_response  # noqa: F401
