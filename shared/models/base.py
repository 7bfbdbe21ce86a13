"""Base of the stored documents and bus/task messages: versioned pydantic models."""

from __future__ import annotations

import datetime as dt
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
