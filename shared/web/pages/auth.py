"""Signed-out pages: sign-in (password, then the second factor), sign-out, unlock."""

from __future__ import annotations

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for

from shared.accounts import audit, sessions, signin
from shared.accounts.errors import AccountError, InvalidLink
from shared.web import auth
from shared.web.pages.common import external, safe_next, signin_client, start_session

blueprint = Blueprint("auth", __name__)


@blueprint.get("/signin")
def signin_form():
    return render_template("signin.html", next=request.args.get("next", ""))


@blueprint.post("/signin")
def signin_submit():
    form = request.form
    target = safe_next(form.get("next"))
    try:
        account = signin.check_password(auth.ports(), form.get("email", ""), form.get("password", ""),
                                        signin_client(), unlock_url=external("/unlock"))
    except AccountError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else {}
        return render_template("signin.html", error=exc.message, email=form.get("email", ""),
                               next=form.get("next", "")), exc.status, headers
    if account.totp_enabled:
        response = make_response(redirect(url_for("auth.code_form", next=target)))
        start_session(response, account, stage="mfa", previous=g.get("session"))
        return response
    response = make_response(redirect(target))
    start_session(response, account, previous=g.get("session"))
    signin.complete(auth.ports(), account, signin_client(), method="password",
                    security_url=external("/account/security"))
    return response


# ``signin`` is what other pages redirect to
blueprint.add_url_rule("/signin", endpoint="signin", view_func=signin_form, methods=["GET"])


@blueprint.post("/signout")
def signout():
    session = g.get("session")
    response = make_response(redirect(url_for("auth.signin")))
    if session is not None:
        sessions.end_by_key(auth.ports().store(), session.key)
        info = auth.client()
        audit.record(auth.ports().store(), auth.now(), tenant_id=session.tenant_id, action="signout",
                     actor_user_id=session.user_id, ip=info.ip, user_agent=info.user_agent)
    auth.clear_session_cookie(response)
    return response


@blueprint.get("/unlock")
def unlock_form():
    return render_template("unlock.html", token=request.args.get("token", ""))


@blueprint.post("/unlock")
def unlock_submit():
    try:
        signin.unlock(auth.ports(), request.form.get("token"))
    except InvalidLink as exc:
        return render_template("error.html", message=exc.message, status=exc.status), exc.status
    return render_template("signin.html", notice="Your account is unlocked. Sign in.")





# --- the second factor ----------------------------------------------------------------------------

@blueprint.get("/signin/code")
def code_form():
    if g.get("session") is None or g.session.stage != "mfa":
        return redirect(url_for("auth.signin"))
    return render_template("signin_code.html", next=request.args.get("next", ""))


@blueprint.post("/signin/code")
def code_submit():
    from shared.accounts import twofactor

    session = g.get("session")
    if session is None or session.stage != "mfa":
        return redirect(url_for("auth.signin"))
    store = auth.ports().store()
    user = store.get(f"tenants/{session.tenant_id}/users/{session.user_id}") or {}
    account = signin.Account(session.tenant_id, session.user_id, user)
    try:
        method = twofactor.check(auth.ports(), session.tenant_id, user, request.form.get("code", ""))
    except AccountError as exc:
        return render_template("signin_code.html", error=exc.message, next=request.form.get("next", "")), exc.status
    response = make_response(redirect(safe_next(request.form.get("next"))))
    start_session(response, account, mfa=True, previous=session)
    signin.complete(auth.ports(), account, signin_client(), method=f"password+{method}",
                    security_url=external("/account/security"))
    return response


# --- sign-up and email verification ---------------------------------------------------------------

@blueprint.get("/signup")
def signup_form():
    from shared.accounts.signup import TEAM_SIZES, US_STATES, US_TIME_ZONES

    return render_template("signup.html", form={}, states=sorted(US_STATES), zones=US_TIME_ZONES, sizes=TEAM_SIZES)


@blueprint.post("/signup")
def signup_submit():
    from shared.accounts import signup

    data = {key: request.form.get(key, "") for key in (
        "business_name", "owner_name", "email", "phone", "country", "state", "time_zone", "industry", "team_size",
        "password")}
    data["adult_and_accepts"] = request.form.get("adult_and_accepts") == "yes"
    info = auth.client()
    try:
        form = signup.parse(data)
        tenant_id, user_id = signup.sign_up(auth.ports(), form, ip=info.ip, user_agent=info.user_agent,
                                            verify_url=external("/verify"))
    except AccountError as exc:
        data.pop("password")
        return render_template("signup.html", error=exc.message, form=data, states=sorted(signup.US_STATES),
                               zones=signup.US_TIME_ZONES, sizes=signup.TEAM_SIZES), exc.status
    account = signin.Account(tenant_id, user_id, auth.ports().store().get(f"tenants/{tenant_id}/users/{user_id}"))
    response = make_response(redirect(url_for("home.index")))
    start_session(response, account, previous=g.get("session"))
    signin.remember_first_device(auth.ports(), tenant_id, user_id, signin_client())
    return response


@blueprint.get("/verify")
def verify_form():
    return render_template("confirm.html", title="Confirm your email", action="verify",
                           token=request.args.get("token", ""), button="Confirm my email")


@blueprint.post("/verify")
def verify_submit():
    from shared.accounts import signup

    signup.verify_email(auth.ports(), request.form.get("token"))
    return render_template("signin.html" if g.get("principal") is None else "notice.html",
                           notice="Your email address is confirmed.")


# --- password reset -------------------------------------------------------------------------------

@blueprint.get("/password/forgot")
def forgot_form():
    return render_template("forgot.html")


@blueprint.post("/password/forgot")
def forgot_submit():
    from shared.accounts import reset

    reset.request_reset(auth.ports(), request.form.get("email", ""), ip=auth.client().ip,
                        reset_url=external("/password/reset"))
    return render_template("notice.html", notice="If an account uses this address, we sent it a link to choose a "
                                                 "new password. The link works once, for 30 minutes.")


@blueprint.get("/password/reset")
def reset_form():
    return render_template("reset.html", token=request.args.get("token", ""))


@blueprint.post("/password/reset")
def reset_submit():
    from shared.accounts import reset

    info = auth.client()
    try:
        reset.reset(auth.ports(), request.form.get("token"), request.form.get("password", ""), ip=info.ip,
                    user_agent=info.user_agent)
    except AccountError as exc:
        return render_template("reset.html", token=request.form.get("token", ""), error=exc.message), exc.status
    response = make_response(render_template("signin.html", notice="Your password is changed. Sign in with it."))
    auth.clear_session_cookie(response)
    return response


# --- invitations -----------------------------------------------------------------------------------

@blueprint.get("/invite")
def invite_form():
    from shared.accounts import team

    token = request.args.get("token", "")
    data = team.invitation(auth.ports(), token)
    tenant = auth.ports().store().get(f"tenants/{data['tenant_id']}") or {}
    return render_template("accept_invite.html", token=token, business=tenant.get("name", ""), role=data["role"])


@blueprint.post("/invite")
def invite_submit():
    from shared.accounts import team

    token = request.form.get("token", "")
    info = auth.client()
    try:
        tenant_id, user_id = team.accept(auth.ports(), token, request.form.get("name", ""),
                                         request.form.get("password", ""), ip=info.ip, user_agent=info.user_agent)
    except AccountError as exc:
        if isinstance(exc, InvalidLink):
            raise
        data = team.invitation(auth.ports(), token)
        tenant = auth.ports().store().get(f"tenants/{data['tenant_id']}") or {}
        return render_template("accept_invite.html", token=token, business=tenant.get("name", ""), role=data["role"],
                               error=exc.message), exc.status
    account = signin.Account(tenant_id, user_id, auth.ports().store().get(f"tenants/{tenant_id}/users/{user_id}"))
    response = make_response(redirect(url_for("home.index")))
    start_session(response, account, previous=g.get("session"))
    signin.remember_first_device(auth.ports(), tenant_id, user_id, signin_client())
    return response


# --- new terms --------------------------------------------------------------------------------------

@blueprint.get("/terms")
def terms_form():
    auth.principal()
    return render_template("terms.html")


@blueprint.post("/terms")
def terms_submit():
    from shared.accounts import policy

    principal = auth.principal()
    if request.form.get("accept") != "yes":
        return render_template("terms.html", error="Accept the terms and the privacy policy to go on."), 422
    info = auth.client()
    policy.record_acceptance(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id,
                             user_id=principal.user_id, ip=info.ip, user_agent=info.user_agent,
                             settings=auth.ports().settings)
    return redirect(url_for("home.index"))
