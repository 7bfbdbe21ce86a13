"""Imports an instance starts in the background, joined only by the request path that needs them.

``start(name, load)`` runs ``load`` (an import) in a daemon thread while the instance starts, so
the requests that do not need it never wait for it; ``wait(name)`` on the path that does joins
that thread and, if ``load`` failed, raises :class:`BackgroundImportFailed` from its exception on
every wait (the failure is also logged once, with its traceback, when it happens). ``wait`` for
a name nobody started returns at once: the caller then imports as usual.

A background import shares the interpreter (and its GIL) with the requests: begun just before
or during the first request (the one that started the instance), it would slow that answer
down by the CPU it takes from it. So the thread, started at instance start, begins its import
once the instance has answered a request and is answering none (:func:`answering`, around the
function's handler), at once when a request needs it (:func:`wait`), and at the latest
``DEFER_AT_MOST`` seconds after it was started. An instance started by a voicemail call answers
it first and imports after; one started by an AI call imports as soon as the AI route asks.

Rule: start it after the instance's own imports (the last line of ``main.py``), so the two
threads do not import the same packages at the same moment.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

from shared.logging import get_logger

log = get_logger("z3.warmup")

DEFER_AT_MOST = 1.0  # seconds a background import waits for the requests being answered


class BackgroundImportFailed(ImportError):
    """What the background import of ``name`` raised, re-raised on the path that needs it."""


class _Background:
    def __init__(self, name: str, load: Callable[[], object]) -> None:
        self.name = name
        self.error: BaseException | None = None
        self.needed = False
        self.thread = threading.Thread(target=self._run, args=(load,), name=f"warmup-{name}", daemon=True)

    def _run(self, load: Callable[[], object]) -> None:
        with _state:
            _state.wait_for(lambda: (_answered and not _answering) or self.needed, timeout=DEFER_AT_MOST)
        try:
            load()
        except BaseException as exc:  # noqa: BLE001 - kept for the waiter, which re-raises it
            self.error = exc
            log.exception("background import failed", extra={"import": self.name})


_started: dict[str, _Background] = {}
_lock = threading.Lock()
_state = threading.Condition()
_answering = 0  # requests being answered now
_answered = 0  # requests answered since the instance started


def start(name: str, load: Callable[[], object]) -> None:
    """Run ``load`` in the background, once per process and name."""
    with _lock:
        if name in _started:
            return
        background = _started[name] = _Background(name, load)
    background.thread.start()


@contextlib.contextmanager
def answering() -> Iterator[None]:
    """Around a request's handling: background imports not begun yet wait until it is answered."""
    global _answering, _answered
    with _state:
        _answering += 1
    try:
        yield
    finally:
        with _state:
            _answering -= 1
            _answered += 1
            _state.notify_all()


def wait(name: str) -> None:
    """Block until the background import of ``name`` is done; raise if it failed."""
    background = _started.get(name)
    if background is None:
        return
    if background.thread.is_alive():
        with _state:
            background.needed = True
            _state.notify_all()
        background.thread.join()
    if background.error is not None:
        raise BackgroundImportFailed(f"the background import of {name} failed: {background.error!r}") \
            from background.error
