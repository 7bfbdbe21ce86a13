"""A small bounded dict (cleared when full): the per-instance caches of the answer path
(``shared.voice.lookup``, ``shared.voice.render``)."""

from __future__ import annotations

from typing import Any


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def put(self, key: Any, value: Any) -> Any:
        if len(self.data) >= self.size:
            self.data.clear()
        self.data[key] = value
        return value

    def forget(self, key: Any) -> None:
        self.data.pop(key, None)
