"""Start-up warming of the Retell-facing functions (``retell_webhook``, ``retell_tools``).

Both endpoints are signed the same way: ``x-retell-signature: v={ms},d={hex HMAC-SHA256(api key,
raw body + ms)}`` with a 5-minute tolerance, checked on the raw bytes by
``shared.webhooks.retell.verify_retell_request`` (fail closed: missing, malformed, stale or
forged -> 403).
"""

from __future__ import annotations


def warm(*, tools: bool = False) -> None:
    """Import at instance start what the request path needs, so the agent (and the caller
    listening to it) never waits for an import mid-call."""
    from shared.webhooks import retell as retell_signatures

    import shared.voice.agent_payloads  # noqa: F401
    import shared.voice.calls  # noqa: F401

    if tools:
        import phonenumbers  # noqa: F401

        import shared.notifications  # noqa: F401
        import shared.scheduling.appointments  # noqa: F401
        import shared.voice.agent_tools  # noqa: F401
        import shared.voice.contacts  # noqa: F401
    else:
        import shared.voice.agent_webhook  # noqa: F401
        import shared.voice.events  # noqa: F401
    retell_signatures.preload()  # the SDK's signature helper, without the SDK (~0.1 s, not ~3 s)
