"""Base of the stored documents and bus/task messages: versioned pydantic models."""

from __future__ import annotations

import datetime as dt
from math import isfinite
import secrets
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict


def new_id(prefix: str) -> str:
    """Random, URL- and path-safe id with a readable type prefix (``t_``, ``u_`` ...)."""
    return f"{prefix}_{secrets.token_hex(8)}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True, str_strip_whitespace=True, use_enum_values=True)

    def to_doc(self) -> dict[str, Any]:
        """The stored form: JSON types plus aware datetimes (what DocumentStore takes)."""
        return self.model_dump(mode="python", exclude_none=False)

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


class Message(Model):
    """A message on the bus or in a task. ``version`` travels with it; consumers refuse versions
    they do not know instead of guessing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)
    VERSION: ClassVar[int] = 1
    version: int = 1

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls.model_validate_json(raw)


# What a stored document or a message may hold, whatever a sender put in its JSON: both stores
# refuse NaN and infinities (the local writer's ``allow_nan=False``, Firestore's own checks are
# not ours to rely on), Firestore holds integers only up to 64 bits, and a value nested deeper
# than any provider nests cannot be written back out without recursing past the stack.
MAX_JSON_DEPTH = 64
_INT64 = 2 ** 63


def json_value_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a decoded JSON value cannot be stored, or None: nested deeper than ``max_depth``, a
    number that is not finite, or an integer beyond 64 bits. Level by level, so any depth is safe."""
    level, depth = [[value]], 0
    while level:
        depth += 1
        if depth > max_depth + 1:
            return f"nested too deeply (more than {max_depth} levels)"
        deeper: list[Any] = []
        for container in level:
            for item in (container.values() if type(container) is dict else container):
                kind = type(item)
                if kind is dict or kind is list:
                    deeper.append(item)
                elif kind is float:
                    if not isfinite(item):
                        return "numbers must be finite"
                elif kind is int and not -_INT64 <= item < _INT64:
                    return "number out of range (integers are at most 64 bits)"
        level = deeper
    return None
