"""Server-side sessions in the document store.

* The cookie holds an opaque random id (256 bits); the store keeps ``sessions/{sha256(id)}``,
  so a copy of the store does not yield working cookies. The document holds ids, not content:
  tenant, user, role, the CSRF token, times, the client's IP prefix and user agent.
* ``expire_at`` = the earlier of 30 minutes after the last use (idle) and 12 hours after the
  start (absolute); Firestore TTL deletes it later, :func:`load` refuses it at once.
* One document read per request. The idle clock is written back at most once a minute
  (:data:`TOUCH_EVERY`), so a busy dashboard costs a write a minute, not one per request.
* A new id at sign-in and on any privilege change (:func:`rotate`): a fixed id planted before
  sign-in is never the id of a signed-in session.
* ``stage = "mfa"``: a password was right and the second factor is pending; such a session
  authenticates nothing and lives 5 minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from shared.ports import DocumentStore, Query

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
MFA_PENDING = dt.timedelta(minutes=5)
TOUCH_EVERY = dt.timedelta(minutes=1)
COLLECTION = "sessions"


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _path(session_id: str) -> str:
    return f"{COLLECTION}/{session_key(session_id)}"


@dataclass(frozen=True)
class Session:
    id: str  # the cookie value (never stored)
    key: str  # the document id
    data: dict[str, Any]

    @property
    def tenant_id(self) -> str:
        return self.data["tenant_id"]

    @property
    def user_id(self) -> str:
        return self.data["user_id"]

    @property
    def role(self) -> str:
        return self.data["role"]

    @property
    def csrf(self) -> str:
        return self.data["csrf"]

    @property
    def stage(self) -> str:
        return self.data.get("stage", "active")


def _expiry(created: dt.datetime, last: dt.datetime, stage: str) -> dt.datetime:
    if stage == "mfa":
        return created + MFA_PENDING
    return min(last + IDLE, created + ABSOLUTE)


def create(store: DocumentStore, now: dt.datetime, *, tenant_id: str, user_id: str, role: str,
           ip_prefix: str = "", user_agent: str = "", stage: str = "active", mfa: bool = False) -> Session:
    session_id = secrets.token_urlsafe(32)
    data = {"tenant_id": tenant_id, "user_id": user_id, "role": role, "stage": stage, "mfa": mfa,
            "csrf": secrets.token_urlsafe(32), "created_at": now, "last_seen_at": now,
            "expire_at": _expiry(now, now, stage), "ip_prefix": ip_prefix, "user_agent": user_agent[:300]}
    store.set(_path(session_id), data)
    return Session(session_id, session_key(session_id), data)


def load(store: DocumentStore, session_id: str | None, now: dt.datetime) -> Session | None:
    """The live session of a cookie value, or None (unknown, expired). One read; a write at most
    once a minute to move the idle expiry."""
    if not session_id or len(session_id) > 128:
        return None
    path = _path(session_id)
    data = store.get(path)
    if data is None:
        return None
    if data["expire_at"] <= now:
        store.delete(path)
        return None
    if data.get("stage", "active") == "active" and now - data["last_seen_at"] >= TOUCH_EVERY:
        expire_at = _expiry(data["created_at"], now, "active")
        store.update(path, {"last_seen_at": now, "expire_at": expire_at})
        data = {**data, "last_seen_at": now, "expire_at": expire_at}
    return Session(session_id, session_key(session_id), data)


def rotate(store: DocumentStore, session: Session, now: dt.datetime, **changes: Any) -> Session:
    """The same sign-in under a new id (privilege change, second factor passed): the old id
    stops working at once. ``changes`` (role, stage, mfa) are applied; a session that becomes
    active starts its clocks now."""
    data = {**session.data, **changes, "csrf": secrets.token_urlsafe(32)}
    if session.stage != "active" and data.get("stage") == "active":
        data["created_at"] = now
    data["last_seen_at"] = now
    data["expire_at"] = _expiry(data["created_at"], now, data.get("stage", "active"))
    new_id = secrets.token_urlsafe(32)
    batch = store.batch()
    batch.set(_path(new_id), data)
    batch.delete(f"{COLLECTION}/{session.key}")
    batch.commit()
    return Session(new_id, session_key(new_id), data)


def end(store: DocumentStore, session_id: str) -> None:
    store.delete(_path(session_id))


def end_by_key(store: DocumentStore, key: str) -> None:
    store.delete(f"{COLLECTION}/{key}")


def of_user(store: DocumentStore, tenant_id: str, user_id: str) -> list[str]:
    """The document ids of a user's sessions."""
    query = Query(COLLECTION).where("tenant_id", "==", tenant_id).where("user_id", "==", user_id)
    return [doc.id for doc in store.stream(query)]


def end_all(store: DocumentStore, tenant_id: str, user_id: str, *, keep_key: str | None = None) -> int:
    """Sign a user out everywhere (password reset, removal, "sign out everywhere"), except the
    session ``keep_key``. Returns how many ended."""
    keys = [key for key in of_user(store, tenant_id, user_id) if key != keep_key]
    for start in range(0, len(keys), 400):
        batch = store.batch()
        for key in keys[start:start + 400]:
            batch.delete(f"{COLLECTION}/{key}")
        batch.commit()
    return len(keys)

