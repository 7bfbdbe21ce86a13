"""Who is asking: the one object every page and API handler gets after authentication."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.models.tenant import Role

AuthMethod = Literal["session", "token"]
Scope = Literal["read", "write"]


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    role: Role
    auth: AuthMethod
    # A session carries every scope; a personal API token only those it was made with.
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"read", "write"}))
    session_id: str | None = None  # the session document's id (a hash, never the cookie value)
    token_id: str | None = None

    @property
    def via_cookie(self) -> bool:
        return self.auth == "session"

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes
