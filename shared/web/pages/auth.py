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



