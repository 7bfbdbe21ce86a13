"""``/members``: the team (``shared.accounts.team``) and ``/audit-log``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts import team
from shared.models.tenant import Role, User
from shared.tenants import TenantScope
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint
from shared.web.api.v1.models import ID
from shared.web.pages.common import external


class MemberOut(BaseModel):
    id: str
    email: str
    name: str
    role: Literal["owner", "admin", "staff", "viewer"]
    status: Literal["invited", "active", "disabled"]
    created_at: dt.datetime

    @classmethod
    def of(cls, data: dict[str, Any]) -> "MemberOut":
        user = User.from_doc(data)
        return cls(id=user.id, email=user.email, name=user.name, role=Role(user.role).value, status=user.status,
                   created_at=user.created_at)


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    role: Literal["admin", "staff", "viewer"] = "staff"


class InvitationOut(BaseModel):
    id: str
    email: str
    role: Literal["admin", "staff", "viewer"]
    expires_at: dt.datetime


class AuditEntryOut(BaseModel):
    id: str
    at: dt.datetime
    action: str
    actor_user_id: str | None
    target: str | None
    ip: str
    user_agent: str
    changes: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> "AuditEntryOut":
        return cls(**{key: data.get(key) for key in ("id", "at", "action", "actor_user_id", "target")},
                   ip=data.get("ip") or "", user_agent=data.get("user_agent") or "", changes=data.get("changes") or {})


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


@operation(blueprint, "GET", "/members", action="members.read", summary="The team, oldest first",
           response=Page[MemberOut], query=PageQuery)
def list_members(query: PageQuery) -> Page[MemberOut]:
    return pagination.page(_scope(), "users", "created_at", "asc", query, MemberOut.of, Page[MemberOut])


@operation(blueprint, "POST", "/members/invitations", action="members.manage",
           summary="Invite someone by email (a link valid 7 days)", response=InvitationOut, status=201,
           body=InvitationIn, errors=(409,))
def invite_member(body: InvitationIn) -> InvitationOut:
    info = auth.client()
    invitation_id = team.invite(auth.ports(), auth.principal(), body.email, body.role, ip=info.ip,
                                user_agent=info.user_agent, accept_url=external("/invite"))
    return InvitationOut(id=invitation_id, email=body.email.strip(), role=body.role,
                         expires_at=auth.now() + team.INVITE_TTL)


@operation(blueprint, "DELETE", "/members/<user_id>", action="members.manage",
           summary="Remove a member (never an owner, never yourself)", response=None, status=204,
           path_params={"user_id": ID})
def remove_member(user_id: str) -> None:
    info = auth.client()
    team.remove(auth.ports(), auth.principal(), user_id, ip=info.ip, user_agent=info.user_agent)


@operation(blueprint, "GET", "/audit-log", action="audit.read", summary="Who did what, newest first",
           response=Page[AuditEntryOut], query=PageQuery)
def audit_log(query: PageQuery) -> Page[AuditEntryOut]:
    return pagination.page(_scope(), "audit", "at", "desc", query, AuditEntryOut.of, Page[AuditEntryOut])
