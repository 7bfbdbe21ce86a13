"""``/me`` and ``/tokens`` (one's own personal API tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts import tokens
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint
from shared.web.api.v1.models import ID


class Me(BaseModel):
    user_id: str
    tenant_id: str
    role: Literal["owner", "admin", "staff", "viewer"]
    email: str | None
    name: str
    auth: Literal["session", "token"]
    scopes: list[Literal["read", "write"]]


@operation(blueprint, "GET", "/me", action="account.read", summary="Who is asking", response=Me)
def me() -> Me:
    principal = auth.principal()
    user = auth.ports().store().get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {}
    return Me(user_id=principal.user_id, tenant_id=principal.tenant_id, role=principal.role.value,
              email=user.get("email"), name=user.get("name", ""), auth=principal.auth, scopes=sorted(principal.scopes))


class TokenOut(BaseModel):
    id: str
    name: str
    scope: Literal["read", "write"]
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @classmethod
    def of(cls, token: tokens.ApiToken) -> "TokenOut":
        return cls(id=token.id, name=token.name, scope=token.scope, created_at=token.created_at,
                   last_used_at=token.last_used_at)


class TokenList(BaseModel):
    items: list[TokenOut]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scope: Literal["read", "write"] = "read"


class TokenCreated(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


def _pepper() -> str:
    return auth.ports().settings.secret("z3_api_token_pepper")


@operation(blueprint, "GET", "/tokens", action="tokens.manage", summary="Your personal API tokens",
           response=TokenList)
def list_tokens() -> TokenList:
    principal = auth.principal()
    found = tokens.list_for(auth.ports().store(), principal.tenant_id, principal.user_id)
    return TokenList(items=[TokenOut.of(t) for t in found])


@operation(blueprint, "POST", "/tokens", action="tokens.manage", summary="Make a personal API token (signed in only)",
           response=TokenCreated, status=201, body=TokenIn)
def create_token(body: TokenIn) -> TokenCreated:
    info = auth.client()
    token, secret = tokens.create_for(auth.ports().store(), auth.now(), _pepper(), auth.principal(), name=body.name,
                                      scope=body.scope, ip=info.ip, user_agent=info.user_agent)
    return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)


@operation(blueprint, "DELETE", "/tokens/<token_id>", action="tokens.manage", summary="Revoke one of your tokens",
           response=None, status=204, path_params={"token_id": ID})
def revoke_token(token_id: str) -> None:
    info = auth.client()
    tokens.revoke(auth.ports().store(), auth.now(), auth.principal(), token_id, ip=info.ip,
                  user_agent=info.user_agent)
