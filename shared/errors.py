"""Domain errors: what a service raises when its input cannot be used. ``shared.http`` maps them
to status codes (``InvalidInput`` -> 400 with its reason); services never import ``shared.http``.

Other errors keep their homes next to what raises them and are mapped the same way:
``shared.ports.StoreUnavailable`` (503), ``shared.idempotency.InProgress`` (409),
``shared.webhooks.InvalidSignature`` (403) and ``MalformedPayload`` (400).
"""

from __future__ import annotations


class InvalidInput(ValueError):
    """The request is well signed but unusable: the caller gets a 4xx with ``reason``, which
    must hold no PII (no phone numbers, addresses or message text)."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
