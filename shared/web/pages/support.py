"""The help page (a support form, links to the policies) and the published privacy policy and
terms, which anyone can read (signed in or not)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from shared.accounts import permissions
from shared.support import requests as support
from shared.web import auth, legal

blueprint = Blueprint("help", __name__, url_prefix="/help")
public = Blueprint("legal", __name__, url_prefix="/legal")


def _form(status: int = 200, *, errors: dict[str, str] | None = None, **extra):
    return render_template("help.html", topics=support.TOPICS, request_id=support.new_request_id(),
                           can_ask=permissions.can(auth.principal(), "support.request"),
                           errors=errors or {}, form=request.form if errors else {}, **extra), status


@blueprint.get("")
@auth.requires("account.read")
def index():
    return _form()


@blueprint.post("")
@auth.requires("support.request")
def send():
    principal, form = auth.principal(), request.form
    try:
        sent = support.submit(auth.ports(), auth.now(), tenant_id=principal.tenant_id, user_id=principal.user_id,
                              request_id=form.get("request_id", ""), topic=form.get("topic", ""),
                              subject=form.get("subject", ""), message=form.get("message", ""))
    except support.SupportInvalid as exc:
        return _form(422, errors=exc.errors, error="Your request was not sent: check the marked fields.")
    notice = ("Thank you: your request is with our support team. We sent you a confirmation by email"
              f" (reference {sent.request_id}).") if sent.created else \
        f"This request was already sent (reference {sent.request_id}); we will answer by email."
    return _form(notice=notice)


def _document(name: str, version: str, label: str):
    doc = legal.document(name)
    if doc is None and name != "terms-of-service":
        abort(404)
    return render_template("legal.html", doc=doc, version=version, label=label)


@public.get("/privacy")
def privacy():
    return _document("privacy-policy", auth.ports().settings.z3_policy_version, "Privacy policy")


@public.get("/terms")
def terms():
    return _document("terms-of-service", auth.ports().settings.z3_terms_version, "Terms of service")
