"""The signed-in home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from shared.web import auth

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
@auth.requires("business.read")
def index():
    principal = auth.principal()
    store = auth.ports().store()
    tenant = store.get(f"tenants/{principal.tenant_id}") or {}
    user = store.get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {}
    return render_template("home.html", tenant=tenant, user=user, principal=principal)
