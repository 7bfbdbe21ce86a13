"""Personal API tokens: named, scoped (``read`` or ``write``), revocable, with a last-used time.

* The token is ``z3_`` + 256 random bits, shown once. The store keeps a keyed hash of it,
  HMAC-SHA256 with the pepper ``Z3_API_TOKEN_PEPPER``: the token has full entropy, so a slow
  password hash (Argon2id, ~100 ms and 64 MiB per check) would protect nothing a guess could
  reach and would cost every API request that time; the pepper makes a copy of the store alone
  useless for checking stolen tokens.
* ``api_tokens/{hmac}`` (global, ids only: tenant, user, token id, scope, last use) is what a
  request reads; ``tenants/{t}/api_tokens/{id}`` holds the name and the times the owner sees.
  Revoking deletes both. A token acts as its user with the user's *current* role (the user
  document is read on each request), so a removed member's tokens stop at once.
* ``last_used_at`` is written at most once a minute per token (``LAST_USED_EVERY``): a request
  costs two document reads and, rarely, one batched write of two documents.
* A token is made from a signed-in session (or by an operator), never by another token: a
  leaked token cannot mint tokens that outlive its revocation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from shared.accounts import audit
from shared.accounts.errors import Forbidden, InvalidInput, NotFound
from shared.accounts.principal import Principal
from shared.models.tenant import Role
from shared.ports import DocumentStore
from shared.ports import NotFound as StoreNotFound
from shared.tenants import TenantScope, _check_id

TokenScope = Literal["read", "write"]
PREFIX = "z3_"
INDEX = "api_tokens"
LAST_USED_EVERY = dt.timedelta(minutes=1)
MAX_PER_USER = 50
MAX_TOKEN_LENGTH = 100
SCOPES: dict[str, frozenset[str]] = {"read": frozenset({"read"}), "write": frozenset({"read", "write"})}


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    name: str
    scope: TokenScope
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> "ApiToken":
        return cls(id=data["id"], user_id=data["user_id"], name=data["name"], scope=data["scope"],
                   created_at=data["created_at"], last_used_at=data.get("last_used_at"))


def digest(pepper: str, token: str) -> str:
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()


def _index_path(pepper: str, token: str) -> str:
    return f"{INDEX}/{digest(pepper, token)}"


def _tokens(scope: TenantScope, user_id: str) -> list[dict[str, Any]]:
    # One equality filter (no composite index); at most MAX_PER_USER documents.
    query = scope.collection("api_tokens").where("user_id", "==", user_id).page(MAX_PER_USER + 1)
    return [doc.data for doc in scope.query(query)]


def list_for(store: DocumentStore, tenant_id: str, user_id: str) -> list[ApiToken]:
    """The user's tokens, newest first."""
    found = [ApiToken.from_doc(d) for d in _tokens(TenantScope(store, tenant_id), user_id)]
    return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)


def create(store: DocumentStore, now: dt.datetime, pepper: str, *, tenant_id: str, user_id: str, name: str,
           scope: TokenScope, ip: str = "", user_agent: str = "") -> tuple[ApiToken, str]:
    """A new token for the user: (its record, the token itself, which is never stored)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 100:
        raise InvalidInput("Name the token (1 to 100 characters).", field="name")
    if scope not in SCOPES:
        raise InvalidInput("The scope is read or write.", field="scope")
    tenant = TenantScope(store, tenant_id)
    user = tenant.get(f"users/{_check_id(user_id)}")
    if user is None or user.get("status") != "active":
        raise NotFound("No active user with this id at this business.")
    if len(_tokens(tenant, user_id)) >= MAX_PER_USER:
        raise InvalidInput(f"At most {MAX_PER_USER} tokens per person: revoke one first.")
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(8)
    key = digest(pepper, token)
    batch = store.batch()
    batch.set(f"{INDEX}/{key}", {"tenant_id": tenant_id, "user_id": user_id, "token_id": token_id, "scope": scope,
                                 "last_used_at": None, "created_at": now})
    batch.set(tenant.path(f"api_tokens/{token_id}"), {
        "id": token_id, "user_id": user_id, "name": name, "scope": scope, "created_at": now,
        "last_used_at": None, "digest": key})
    batch.commit()
    audit.record(store, now, tenant_id=tenant_id, action="api_token.created", actor_user_id=user_id, ip=ip,
                 user_agent=user_agent, target=token_id, changes={"name": name, "scope": scope})
    return ApiToken(token_id, user_id, name, scope, now, None), token


def create_for(store: DocumentStore, now: dt.datetime, pepper: str, actor: Principal, *, name: str,
               scope: TokenScope, ip: str = "", user_agent: str = "") -> tuple[ApiToken, str]:
    if not actor.via_cookie:
        raise Forbidden("API tokens are made from a signed-in session, not with another token.")
    return create(store, now, pepper, tenant_id=actor.tenant_id, user_id=actor.user_id, name=name, scope=scope,
                  ip=ip, user_agent=user_agent)


def revoke(store: DocumentStore, now: dt.datetime, actor: Principal, token_id: str, *, ip: str = "",
           user_agent: str = "") -> None:
    """Revoke one of the actor's own tokens; :class:`NotFound` for anyone else's (or none)."""
    tenant = TenantScope(store, actor.tenant_id)
    try:
        data = tenant.get(f"api_tokens/{_check_id(token_id)}")
    except ValueError:
        data = None
    if data is None or data.get("user_id") != actor.user_id:
        raise NotFound()
    batch = store.batch()
    batch.delete(f"{INDEX}/{data['digest']}")
    batch.delete(tenant.path(f"api_tokens/{token_id}"))
    batch.commit()
    audit.record(store, now, tenant_id=actor.tenant_id, action="api_token.revoked", actor_user_id=actor.user_id,
                 ip=ip, user_agent=user_agent, target=token_id, changes={"name": data.get("name")})


def authenticate(store: DocumentStore, now: dt.datetime, pepper: str, token: str) -> Principal | None:
    """The principal of a valid token, or None (unknown, revoked, or its user is gone or disabled)."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    index_path = _index_path(pepper, token)
    index = store.get(index_path)
    if index is None:
        return None
    tenant = TenantScope(store, index["tenant_id"])
    user = tenant.get(f"users/{index['user_id']}")
    if user is None or user.get("status") != "active":
        return None
    last = index.get("last_used_at")
    if last is None or now - last >= LAST_USED_EVERY:
        batch = store.batch()
        batch.update(index_path, {"last_used_at": now})
        batch.update(tenant.path(f"api_tokens/{index['token_id']}"), {"last_used_at": now})
        try:
            batch.commit()
        except StoreNotFound:  # revoked between the read and this write
            return None
    return Principal(tenant_id=index["tenant_id"], user_id=index["user_id"], role=Role(user["role"]), auth="token",
                     scopes=SCOPES[index["scope"]], token_id=index["token_id"])
