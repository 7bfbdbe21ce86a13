"""What the contract sink functions received (shared between the sink apps and the tests)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

received: list[dict[str, Any]] = []
fail_next: dict[str, int] = {}  # marker -> how many more deliveries to refuse with 503
_cond = threading.Condition()


def record(item: dict[str, Any]) -> None:
    with _cond:
        received.append(item)
        _cond.notify_all()


def wait_for(predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0,
             pump: Callable[[], object] | None = None) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        if pump is not None:
            pump()
        with _cond:
            if predicate(received):
                return list(received)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; received so far: {received!r}")
            _cond.wait(min(remaining, 0.05))
