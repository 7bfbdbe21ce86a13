"""Glue shared by the voice functions' ``main.py``: Twilio signature checks and start-up warming.

``warm`` runs when a function instance starts (module import of ``main.py``), so a caller never
waits for an import the instance could have done before the call arrived.
"""

from __future__ import annotations

from shared.http import Incoming


def verify_twilio_request(req: Incoming) -> None:
    """Twilio's ``X-Twilio-Signature`` over our public URL of the function (+ its query string)
    and the form parameters; raises ``shared.webhooks.InvalidSignature`` (403)."""
    from shared import runtime
    from shared.webhooks.twilio import verify_request

    verify_request(runtime.settings(), req)


def warm(*, twiml: bool = False, retell: bool = False) -> None:
    """Import at start-up what the request path needs: signature checking, phone numbers,
    TwiML rendering and, for ``voice_answer`` only, the Retell SDK (~2 s)."""
    import phonenumbers  # noqa: F401  (normalising From/To on every call)

    import shared.webhooks.twilio  # noqa: F401
    import twilio.request_validator  # noqa: F401

    if twiml:
        import twilio.twiml.voice_response  # noqa: F401
    if retell:
        from shared.providers import retell as retell_provider

        retell_provider.preload()
