"""The skeleton of the worker functions (Pub/Sub CloudEvents and Cloud Tasks targets).

Raise to retry, return to acknowledge: a handler that cannot finish raises, and the bus or the
queue delivers again (:class:`RetryLater` when the message is merely early: a 503 without a
stack trace). Only a message that can never succeed (not a Pub/Sub message, wrong
schema, unknown version) is acknowledged after an error log, because retrying it forever would
block nothing but cost money and hide real failures.

Every worker first proves its caller (``shared.webhooks.invoker``: the OIDC token of the tasks,
scheduler or events account on gcp, the dispatcher's signature on the local stack, and in
emulated mode also the stand-ins the emulators' deliveries carry): anything else is 403 and
nothing runs. HTTP workers go through :func:`handle_worker`, Pub/Sub
subscribers through :func:`consume`. A worker that reads a JSON body refuses any other
Content-Type (415).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, TypeVar

from pydantic import ValidationError

from shared import runtime
from shared.config import Settings
from shared.events import BadEvent, decode
from shared.http import BadRequest, Incoming, Reply, handle
from shared.logging import get_logger
from shared.models.base import Message
from shared.webhooks import InvalidSignature
from shared.webhooks.invoker import (DELIVERY_HEADER, PUSH_TOKEN_PARAM, OidcVerifier, delivery_key, verify_delivery,
                                     verify_push_token)

log = get_logger("z3.worker")
M = TypeVar("M", bound=Message)
Invoker = Literal["tasks", "scheduler", "events"]

_verifier: OidcVerifier | None = None


def token_verifier() -> OidcVerifier:
    """This instance's OIDC verifier (it caches Google's certificates)."""
    global _verifier
    if _verifier is None:
        _verifier = OidcVerifier()
    return _verifier


def use_token_verifier(verifier: OidcVerifier | None) -> None:
    """Tests: verify tokens against another certificate source (None: Google's again)."""
    global _verifier
    _verifier = verifier


@functools.lru_cache(maxsize=8)
def _delivery_key(data_dir: Path) -> bytes:
    return delivery_key(data_dir)


def verify_invoker(settings: Settings, function: str, invoker: Invoker | tuple[Invoker, ...],
                   headers: Mapping[str, str], body: bytes, push: str | None = None) -> None:
    """Raise :class:`InvalidSignature` unless the request comes from the worker's invoker (or one
    of them: a scheduled function that queues its own continuation accepts the scheduler and the
    task queue). ``push``: the push token of the request's query (Pub/Sub subscribers), counted in
    emulated mode only (``shared.webhooks.invoker``)."""
    if settings.is_local:
        key = _delivery_key(Path(settings.z3_data_dir).resolve())
        verify_delivery(key, function, body, headers.get(DELIVERY_HEADER))
        return
    if settings.emulated:  # development: the emulators send no OIDC token
        signature = headers.get(DELIVERY_HEADER)
        if signature:
            verify_delivery(_delivery_key(Path(settings.z3_data_dir).resolve()), function, body, signature)
            return
        if push and invoker == "events":
            verify_push_token(_delivery_key(Path(settings.z3_data_dir).resolve()), function, push)
            return
    audiences = [settings.function_url(function), settings.worker_url(function)]
    if settings.z3_function_run_url:
        audiences.append(settings.z3_function_run_url.rstrip("/"))
    kinds = invoker if isinstance(invoker, tuple) else (invoker,)
    for kind in kinds[:-1]:
        try:
            token_verifier().claims(headers.get("Authorization"), audiences=audiences, email=settings.invoker(kind))
            return
        except InvalidSignature:
            continue
    token_verifier().claims(headers.get("Authorization"), audiences=audiences, email=settings.invoker(kinds[-1]))


def handle_worker(request: Any, function: str, *, handler: Callable[[Incoming], Reply],
                  invoker: Invoker | tuple[Invoker, ...] = "tasks", json_body: bool = True) -> tuple:
    """``shared.http.handle`` for a worker: the caller is proven first (403), then a JSON
    worker's Content-Type (415)."""

    def verify(req: Incoming) -> None:
        verify_invoker(runtime.settings(), function, invoker, req.headers, req.raw_body)
        if json_body and req.content_type != "application/json":
            raise BadRequest("Content-Type must be application/json", 415)

    return handle(request, function, verify=verify, handler=handler)


class RetryLater(Exception):
    """Not a failure: the message came early (what it needs has not arrived yet). The worker
    answers 503 without a stack trace and the bus delivers again with its backoff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def consume(cloud_event: Any, model: type[M], handler: Callable[[M, str], None], *, function: str) -> None:
    """Prove the caller (403 otherwise), decode a Pub/Sub CloudEvent into ``model`` and run
    ``handler(message, message_id)``."""
    from flask import request
    from werkzeug.exceptions import Forbidden

    try:
        verify_invoker(runtime.settings(), function, "events", request.headers, request.get_data(cache=True),
                       push=request.args.get(PUSH_TOKEN_PARAM))
    except InvalidSignature as exc:
        log.warning("rejected request: bad signature", extra={"reason": str(exc)})
        raise Forbidden("invalid signature") from None
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
