"""The team page: members, invitations, removal, roles, ownership transfer."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from shared.accounts import permissions, team
from shared.accounts.errors import AccountError
from shared.models.tenant import Role
from shared.web import auth
from shared.web.pages.common import external

blueprint = Blueprint("team", __name__, url_prefix="/team")


def _page(status: int = 200, **extra):
    principal = auth.principal()
    return render_template("team.html", members=team.members(auth.ports(), principal.tenant_id), principal=principal,
                           can_manage=permissions.can(principal, "members.manage"),
                           can_transfer=permissions.can(principal, "members.transfer_ownership"),
                           roles=[r.value for r in Role if r != Role.owner], **extra), status


@blueprint.get("")
@auth.requires("members.read")
def index():
    return _page()


@blueprint.post("/invite")
@auth.requires("members.manage")
def invite():
    info = auth.client()
    try:
        team.invite(auth.ports(), auth.principal(), request.form.get("email", ""), request.form.get("role", "staff"),
                    ip=info.ip, user_agent=info.user_agent, accept_url=external("/invite"))
    except (AccountError, ValueError) as exc:
        return _page(getattr(exc, "status", 422), error=getattr(exc, "message", "Choose a role from the list."))
    return _page(notice="Invitation sent. It works once, for 7 days.")


@blueprint.post("/<user_id>/remove")
@auth.requires("members.manage")
def remove(user_id: str):
    info = auth.client()
    team.remove(auth.ports(), auth.principal(), user_id, ip=info.ip, user_agent=info.user_agent)
    return redirect(url_for("team.index"))


@blueprint.post("/<user_id>/transfer")
@auth.requires("members.transfer_ownership")
def transfer(user_id: str):
    info = auth.client()
    team.transfer_ownership(auth.ports(), auth.principal(), user_id, ip=info.ip, user_agent=info.user_agent)
    return redirect(url_for("auth.signin"))
