"""The skeleton of the worker functions (Pub/Sub CloudEvents and Cloud Tasks targets).

Raise to retry, return to acknowledge: a handler that cannot finish raises, and the bus or the
queue delivers again (:class:`RetryLater` when the message is merely early: a 503 without a
stack trace). Only a message that can never succeed (not a Pub/Sub message, wrong
schema, unknown version) is acknowledged after an error log, because retrying it forever would
block nothing but cost money and hide real failures.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from pydantic import ValidationError

from shared.events import BadEvent, decode
from shared.logging import get_logger
from shared.models.base import Message

log = get_logger("z3.worker")
M = TypeVar("M", bound=Message)


class RetryLater(Exception):
    """Not a failure: the message came early (what it needs has not arrived yet). The worker
    answers 503 without a stack trace and the bus delivers again with its backoff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def consume(cloud_event: Any, model: type[M], handler: Callable[[M, str], None]) -> None:
    """Decode a Pub/Sub CloudEvent into ``model`` and run ``handler(message, message_id)``."""
    try:
        delivery = decode(cloud_event)
        message = model.from_bytes(delivery.data)
    except (BadEvent, ValidationError) as exc:
        log.error("dropping unreadable event", extra={"reason": str(exc)[:300], "model": model.__name__})
        return
    if message.version > model.VERSION:
        log.error("dropping event of unknown version", extra={"version": message.version, "model": model.__name__})
        return
    try:
        handler(message, delivery.message_id)
    except RetryLater as exc:
        from werkzeug.exceptions import ServiceUnavailable

        log.info("not ready yet, asking for redelivery", extra={"reason": exc.reason, "model": model.__name__})
        raise ServiceUnavailable(exc.reason) from None
