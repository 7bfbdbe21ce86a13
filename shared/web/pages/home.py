"""The signed-in home page. It is where sign-in lands: an owner is asked to accept new terms
first, and a member of a business that requires 2FA is sent to set it up. It shows the overview
(``pages/overview.py``)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from shared.accounts import policy, twofactor
from shared.models.tenant import Tenant
from shared.web import auth
from shared.web.pages import overview

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
@auth.requires("business.read")
def index():
    principal = auth.principal()
    store = auth.ports().store()
    tenant = store.get(f"tenants/{principal.tenant_id}") or {}
    user = store.get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {}
    if principal.role.value == "owner" and policy.needs_acceptance(store, principal.tenant_id, auth.ports().settings):
        return redirect(url_for("auth.terms_form"))
    if twofactor.required(tenant) and not (user.get("totp") or {}).get("enabled"):
        return redirect(url_for("account.security", required=1))
    return render_template("home.html", tenant=tenant, user=user, principal=principal,
                           **overview.context(Tenant.from_doc(tenant)))
