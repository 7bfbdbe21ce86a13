"""Imports an instance starts in the background, joined only by the request path that needs them.

``start(name, load)`` runs ``load`` (an import) in a daemon thread while the instance starts, so
the requests that do not need it never wait for it; ``wait(name)`` on the path that does joins
that thread and, if ``load`` failed, raises :class:`BackgroundImportFailed` from its exception on
every wait (the failure is also logged once, with its traceback, when it happens). ``wait`` for
a name nobody started returns at once: the caller then imports as usual.

Rule: start it after the instance's own imports (the last line of ``main.py``), so the two
threads do not import the same packages at the same moment.
"""

from __future__ import annotations

import threading
from typing import Callable

from shared.logging import get_logger

log = get_logger("z3.warmup")


class BackgroundImportFailed(ImportError):
    """What the background import of ``name`` raised, re-raised on the path that needs it."""


class _Background:
    def __init__(self, name: str, load: Callable[[], object]) -> None:
        self.name = name
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(load,), name=f"warmup-{name}", daemon=True)

    def _run(self, load: Callable[[], object]) -> None:
        try:
            load()
        except BaseException as exc:  # noqa: BLE001 - kept for the waiter, which re-raises it
            self.error = exc
            log.exception("background import failed", extra={"import": self.name})


_started: dict[str, _Background] = {}
_lock = threading.Lock()


def start(name: str, load: Callable[[], object]) -> None:
    """Run ``load`` in the background, once per process and name."""
    with _lock:
        if name in _started:
            return
        background = _started[name] = _Background(name, load)
    background.thread.start()


def wait(name: str) -> None:
    """Block until the background import of ``name`` is done; raise if it failed."""
    background = _started.get(name)
    if background is None:
        return
    background.thread.join()
    if background.error is not None:
        raise BackgroundImportFailed(f"the background import of {name} failed: {background.error!r}") \
            from background.error
