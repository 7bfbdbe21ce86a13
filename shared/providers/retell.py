"""The Retell AI client, built once per instance from Settings.

Importing ``retell`` costs about two seconds (its generated types). Nothing in this module
imports it at module level; :func:`preload` does, and ``functions/voice_answer/main.py`` runs
it in the background while the instance starts (``shared.warmup``): the voicemail and IVR
answers never wait for it, and the AI route (:func:`client`) joins it, re-raising its failure.
Everyone else pays nothing.

``register_call`` runs against a hard budget: Twilio waits 15 s for our TwiML, and a caller
should not hear more than a moment of silence. Past the budget (or on any error) it raises
:class:`RetellUnavailable` and the caller is offered voicemail instead.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from shared import warmup

if TYPE_CHECKING:
    from shared.config import Settings

SDK = "retell"  # the name of its background import (shared.warmup)
DEFAULT_BASE_URL = "https://api.retellai.com"
REGISTER_BUDGET_SECONDS = 3.5
_MIN_ATTEMPT_SECONDS = 0.5

_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class RetellUnavailable(Exception):
    """Retell did not register the call in time, or refused: take the fallback route."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def preload() -> None:
    """Import the SDK now (instance start-up) instead of during the first AI call."""
    import retell  # noqa: F401


def base_url(settings: "Settings") -> str:
    return (settings.retell_base_url or DEFAULT_BASE_URL).rstrip("/")


def client(settings: "Settings"):
    """One ``Retell`` client per (base URL, key) and process: it keeps its connection pool, so
    warm calls skip the TCP/TLS handshake. SDK retries are off; :func:`register_call` retries
    within its budget itself."""
    warmup.wait(SDK)
    key = (base_url(settings), settings.secret("retell_api_key"))
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                from retell import Retell

                # httpx logs every request line at INFO; one per call is noise, not an audit trail.
                logging.getLogger("httpx").setLevel(logging.WARNING)
                found = Retell(api_key=key[1], base_url=key[0], max_retries=0)
                _clients[key] = found
    return found


def register_call(settings: "Settings", *, agent_id: str, from_number: str | None, to_number: str,
                  metadata: dict[str, str], dynamic_variables: dict[str, str],
                  budget: float | None = None) -> str:
    """Register an inbound call for custom telephony; returns Retell's ``call_id``.

    Tries again once on a connection error or a 5xx while at least half a second of the budget
    is left; a 4xx (bad key, unknown agent) is not retried. Raises :class:`RetellUnavailable`."""
    api = client(settings)
    import httpx
    import retell

    deadline = time.monotonic() + (REGISTER_BUDGET_SECONDS if budget is None else budget)
    body: dict[str, Any] = {"agent_id": agent_id, "to_number": to_number, "direction": "inbound",
                            "metadata": metadata, "retell_llm_dynamic_variables": dynamic_variables}
    if from_number:
        body["from_number"] = from_number
    last = "not attempted"
    for _attempt in range(2):
        remaining = deadline - time.monotonic()
        if remaining < _MIN_ATTEMPT_SECONDS:
            break
        timeout = httpx.Timeout(remaining, connect=min(1.0, remaining))
        try:
            response = api.call.register_phone_call(**body, timeout=timeout)
        except retell.APITimeoutError:
            last = "timed out"
            break  # the budget is spent
        except retell.APIConnectionError:
            last = "connection failed"
            continue
        except retell.APIStatusError as exc:
            last = f"HTTP {exc.status_code}"
            if exc.status_code >= 500 or exc.status_code == 429:
                continue
            break
        if not getattr(response, "call_id", None):
            last = "no call_id in the answer"
            break
        return str(response.call_id)
    raise RetellUnavailable(f"Retell register_phone_call failed: {last}")


def delete_call(settings: "Settings", call_id: str) -> None:
    """Erase Retell's copy of a call (privacy deletion). A call Retell no longer has is fine."""
    import retell

    try:
        client(settings).call.delete(call_id, timeout=10.0)
    except retell.NotFoundError:
        return
    except (retell.APIConnectionError, retell.InternalServerError, retell.RateLimitError) as exc:
        raise RetellUnavailable(f"call delete failed: {type(exc).__name__}") from None
