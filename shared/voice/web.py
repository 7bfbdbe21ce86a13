"""Start-up warming of the voice functions' ``main.py``.

``warm`` runs when a function instance starts (module import of ``main.py``), so a caller never
waits for an import the instance could have done before the call arrived.
"""

from __future__ import annotations

# The one Twilio signature check is shared.webhooks.twilio.verify_twilio_request; this name stays
# only while functions/voice_answer/main.py (being edited on another branch) refers to it here.
from shared.webhooks.twilio import verify_twilio_request  # noqa: F401


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
