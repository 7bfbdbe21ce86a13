"""The audit log: ``tenants/{t}/audit/{id}``, kept 2 years (``expire_at``).

Every entry: ``at``, ``action`` (``signin.succeeded``, ``member.removed`` ...), the actor's user
id, IP and user agent, the target (a user id, a token id) and ``changes`` -- field names with
their old and new values for settings and roles, never a secret, a password, a code, a token or
message content (:func:`record` drops any key that names one). Owners and admins read it
(``audit.read``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from shared.ports import Document, DocumentStore
from shared.tenants import TenantScope

KEEP = dt.timedelta(days=730)
_SECRET_WORDS = ("password", "secret", "token", "code", "hash", "body", "content", "totp", "recovery")


def _clean(changes: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (changes or {}).items()
            if not any(word in key.lower() for word in _SECRET_WORDS)}


def record(store: DocumentStore, now: dt.datetime, *, tenant_id: str, action: str, actor_user_id: str | None,
           ip: str = "", user_agent: str = "", target: str | None = None,
           changes: dict[str, Any] | None = None) -> str:
    # Time-ordered ids: newest first by id as well as by ``at``.
    entry_id = f"a_{now.strftime('%Y%m%d%H%M%S%f')}_{secrets.token_hex(4)}"
    TenantScope(store, tenant_id).set(f"audit/{entry_id}", {
        "id": entry_id, "at": now, "action": action, "actor_user_id": actor_user_id, "ip": ip,
        "user_agent": user_agent[:300], "target": target, "changes": _clean(changes), "expire_at": now + KEEP})
    return entry_id


def page(store: DocumentStore, tenant_id: str, *, limit: int = 50, after: Document | None = None) -> list[Document]:
    scope = TenantScope(store, tenant_id)
    return scope.query(scope.collection("audit").order_by("at", "desc").page(limit, after))


def latest(store: DocumentStore, tenant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    return [doc.data for doc in page(store, tenant_id, limit=limit)]



