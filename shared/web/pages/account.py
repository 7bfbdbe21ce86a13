"""One's own security: two-factor authentication, password, sessions ("sign out everywhere"),
and, for owners, requiring 2FA of every member."""

from __future__ import annotations

import base64

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for

from shared.accounts import reset, sessions, twofactor
from shared.accounts.errors import AccountError
from shared.web import auth

blueprint = Blueprint("account", __name__, url_prefix="/account")


def _me() -> tuple[dict, dict]:
    principal = auth.principal()
    store = auth.ports().store()
    return (store.get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {},
            store.get(f"tenants/{principal.tenant_id}") or {})


def _page(status: int = 200, **extra):
    user, tenant = _me()
    return render_template("security.html", user=user, tenant=tenant, principal=auth.principal(),
                           required=twofactor.required(tenant), **extra), status


@blueprint.get("/security")
@auth.requires("account.security")
def security():
    notice = "Your business requires two-factor authentication: set it up to go on." if request.args.get(
        "required") else None
    return _page(notice=notice)


@blueprint.post("/2fa/setup")
@auth.requires("account.security")
def twofa_setup():
    user, _ = _me()
    secret, svg = twofactor.begin(auth.ports(), auth.principal().tenant_id, user)
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return _page(setup_secret=secret, setup_qr=qr)


@blueprint.post("/2fa/confirm")
@auth.requires("account.security")
def twofa_confirm():
    user, _ = _me()
    info = auth.client()
    try:
        codes = twofactor.confirm(auth.ports(), auth.principal().tenant_id, user, request.form.get("code", ""),
                                  ip=info.ip, user_agent=info.user_agent)
    except AccountError as exc:
        return _page(exc.status, error=exc.message)
    # a privilege change: the same sign-in continues under a new session id
    g.session = sessions.rotate(auth.ports().store(), g.session, auth.now(), mfa=True)
    response = make_response(_page(recovery_codes=codes, notice="Two-factor authentication is on."))
    auth.set_session_cookie(response, g.session)
    return response


@blueprint.post("/2fa/disable")
@auth.requires("account.security")
def twofa_disable():
    user, tenant = _me()
    info = auth.client()
    try:
        twofactor.disable(auth.ports(), auth.principal().tenant_id, user, request.form.get("password", ""),
                          request.form.get("code", ""), ip=info.ip, user_agent=info.user_agent,
                          required_by_business=twofactor.required(tenant))
    except AccountError as exc:
        return _page(exc.status, error=exc.message)
    return _page(notice="Two-factor authentication is off. We sent you an email about it.")


@blueprint.post("/2fa/require")
@auth.requires("security.require_2fa")
def twofa_require():
    info = auth.client()
    twofactor.set_required(auth.ports(), auth.principal().tenant_id, auth.principal().user_id,
                           request.form.get("required") == "yes", ip=info.ip, user_agent=info.user_agent)
    return redirect(url_for("account.security"))


@blueprint.post("/password")
@auth.requires("account.security")
def password_change():
    user, _ = _me()
    info = auth.client()
    try:
        reset.change(auth.ports(), auth.principal().tenant_id, user, request.form.get("current_password", ""),
                     request.form.get("new_password", ""), keep_session_key=g.session.key, ip=info.ip,
                     user_agent=info.user_agent)
    except AccountError as exc:
        return _page(exc.status, error=exc.message)
    return _page(notice="Your password is changed; your other sessions are signed out.")


@blueprint.post("/signout-everywhere")
@auth.requires("account.security")
def signout_everywhere():
    from shared.accounts import audit

    principal = auth.principal()
    ended = sessions.end_all(auth.ports().store(), principal.tenant_id, principal.user_id)
    info = auth.client()
    audit.record(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id, action="signout.everywhere",
                 actor_user_id=principal.user_id, ip=info.ip, user_agent=info.user_agent,
                 changes={"sessions_ended": ended})
    response = make_response(redirect(url_for("auth.signin")))
    auth.clear_session_cookie(response)
    return response
