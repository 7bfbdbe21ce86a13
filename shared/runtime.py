"""Builds the ports and providers from Settings, once per process instance, lazily.

Functions hand ``runtime.current()`` (a :class:`Ports`) to the service they call; each port is
built on first use, so importing this module costs nothing (no Google or provider client is
imported until a port is asked for). Tests swap the whole set with :func:`use` and restore it
with :func:`reset`. Services never import this module: they take a ``ports: shared.ports.Ports``
argument (the Protocol this class implements).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from shared.config import Settings, get_settings
from shared.ports import BlobStore, Cipher, Clock, DocumentStore, EventBus, SystemClock, TaskQueue


@dataclass
class Ports:
    settings: Settings
    _built: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, name: str, build: Callable[[], Any]) -> Any:
        value = self._built.get(name)
        if value is None:
            with self._lock:
                value = self._built.get(name)
                if value is None:
                    value = build()
                    self._built[name] = value
        return value

    def provide(self, **ports: Any) -> "Ports":
        """Override individual ports (tests, dev stack)."""
        self._built.update(ports)
        return self

    def store(self) -> DocumentStore:
        return self._get("store", lambda: _backend(self.settings).build_store(self.settings))

    def bus(self) -> EventBus:
        return self._get("bus", lambda: _backend(self.settings).build_bus(self.settings))

    def tasks(self) -> TaskQueue:
        return self._get("tasks", lambda: _backend(self.settings).build_tasks(self.settings))

    def blobs(self) -> BlobStore:
        return self._get("blobs", lambda: _backend(self.settings).build_blobs(self.settings))

    def cipher(self) -> Cipher:
        return self._get("cipher", lambda: _backend(self.settings).build_cipher(self.settings))

    def clock(self) -> Clock:
        return self._get("clock", SystemClock)

    def close(self) -> None:
        for value in list(self._built.values()):
            close = getattr(value, "close", None)
            if callable(close):
                close()
        self._built.clear()


def _backend(settings: Settings):
    if settings.is_local:
        from shared.adapters import local as backend
    else:
        from shared.adapters import gcp as backend
    return backend


_current: Ports | None = None
_current_lock = threading.Lock()


def current() -> Ports:
    global _current
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Ports(get_settings())
    return _current


def use(ports: Ports) -> Ports:
    global _current
    _current = ports
    return ports


def reset() -> None:
    global _current
    _current = None


def settings() -> Settings:
    return current().settings
