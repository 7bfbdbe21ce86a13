"""Single-use emailed links (email verification, password reset, invitation, account unlock).

The token is 256 random bits in the link; the store keeps only its sha256 in
``account_links/{hash}`` with the purpose, the ids it acts on and ``expire_at``. Consuming a
link deletes it in the same transaction that reads it: a second use, or a use after expiry, is
:class:`InvalidLink`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from shared.accounts.errors import InvalidLink
from shared.ports import DocumentStore, Query

COLLECTION = "account_links"


def digest(token: str) -> str:
    """The stored id of a token (also a safe dedup key for the email that carries it)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _path(token: str) -> str:
    return f"{COLLECTION}/{digest(token)}"


def create(store: DocumentStore, purpose: str, now: dt.datetime, ttl: dt.timedelta, **data: Any) -> str:
    token = secrets.token_urlsafe(32)
    store.set(_path(token), {**data, "purpose": purpose, "created_at": now, "expire_at": now + ttl})
    return token


def peek(store: DocumentStore, purpose: str, token: str | None, now: dt.datetime) -> dict[str, Any]:
    """The link's data without using it (to show a confirmation page), or :class:`InvalidLink`."""
    if not token or len(token) > 128:
        raise InvalidLink()
    data = store.get(_path(token))
    if not data or data.get("purpose") != purpose or data["expire_at"] <= now:
        raise InvalidLink()
    return data


def consume(store: DocumentStore, purpose: str, token: str | None, now: dt.datetime) -> dict[str, Any]:
    """Use the link once: its data, or :class:`InvalidLink` (unknown, used, expired, other purpose)."""
    if not token or len(token) > 128:
        raise InvalidLink()
    path = _path(token)

    def run(tx) -> dict[str, Any]:
        data = tx.get(path)
        if not data or data.get("purpose") != purpose or data["expire_at"] <= now:
            raise InvalidLink()
        tx.delete(path)
        return data

    return store.transaction(run)


def revoke(store: DocumentStore, purpose: str, **match: Any) -> int:
    """Delete every pending link of ``purpose`` whose fields equal ``match`` (an earlier reset
    link when a new one is sent, the invitations of a removed member)."""
    query = Query(COLLECTION).where("purpose", "==", purpose)
    for key, value in match.items():
        query = query.where(key, "==", value)
    docs = list(store.stream(query))
    for doc in docs:
        store.delete(doc.path)
    return len(docs)
