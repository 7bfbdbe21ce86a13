"""The Texts pages: conversations per number, one thread with each message's delivery status,
sending through the one send gate (a refusal shows its reason), and the number's consent
record with its chain check, downloadable as JSON and printable. Numbers appear in URLs only
as their ids (``shared.contacts.ids``)."""

from __future__ import annotations

import json
import secrets
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, url_for

from shared import consent
from shared.accounts import permissions
from shared.accounts.errors import AccountError, NotFound
from shared.consent.proof import proof
from shared.contacts import ids
from shared.phone import try_normalize_us
from shared.sms import conversations
from shared.tenants import TenantScope
from shared.web import auth

blueprint = Blueprint("texts", __name__, url_prefix="/texts")


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


def _zone() -> str:
    return (_scope().get("") or {}).get("time_zone") or "America/New_York"


def _number(number_id: str) -> str:
    try:
        return ids.number_of(_scope(), number_id)
    except ids.UnknownNumberId:
        raise NotFound("No such conversation.") from None


def _local(zone: str):
    tz = ZoneInfo(zone)
    return lambda at: at.astimezone(tz).strftime("%b %-d, %-I:%M %p") if at else ""


def _list_page(status: int = 200, **extra):
    principal = auth.principal()
    zone = _zone()
    return render_template("texts.html", conversations=conversations.conversations(auth.ports(), principal.tenant_id),
                           can_send=permissions.can(principal, "messages.send"), send_id=secrets.token_urlsafe(18),
                           local=_local(zone), **extra), status


def _thread_page(number_id: str, number: str, status: int = 200, **extra):
    principal = auth.principal()
    scope, zone = _scope(), _zone()
    may_consent = permissions.can(principal, "consent.read")
    history = consent.history(scope, number) if may_consent else []
    chain = consent.verify_chain(scope, number) if may_consent else None
    contact = scope.get(f"contacts/{number}") or {}
    return render_template(
        "conversation.html", number_id=number_id, number=number, name=contact.get("name"),
        messages=conversations.thread(auth.ports(), principal.tenant_id, number), refusal=conversations.refusal_text,
        zone=zone, local=_local(zone), can_send=permissions.can(principal, "messages.send"),
        may_consent=may_consent, history=history, chain=chain, send_id=secrets.token_urlsafe(18), **extra), status


@blueprint.get("")
@auth.requires("messages.read")
def index():
    return _list_page()


def _send(raw_number: str):
    info = auth.principal()
    try:
        result = conversations.send_text(auth.ports(), info, raw_number, request.form.get("body", ""),
                                         request.form.get("send_id", ""))
    except AccountError as exc:
        if exc.status >= 500 or exc.status == 409:
            raise
        number = try_normalize_us(raw_number)
        if number is None:
            return _list_page(exc.status, error=exc.message)
        return _thread_page(ids.number_id(_scope(), number), number, exc.status, error=exc.message)
    number = try_normalize_us(raw_number) or ""
    number_id = ids.number_id(_scope(), number)
    if result.status == "blocked":
        reason = result.reason.value if result.reason else None
        return _thread_page(number_id, number, 422, error=conversations.refusal_text(reason, result.retry_at, _zone()),
                            draft=request.form.get("body", ""))
    return redirect(url_for("texts.conversation", number_id=number_id, sent="1"), code=303)


@blueprint.post("/send")
@auth.requires("messages.send")
def send_new():
    return _send(request.form.get("to", ""))


@blueprint.get("/<number_id>")
@auth.requires("messages.read")
def conversation(number_id: str):
    notice = "Sent. The delivery status updates as the carrier reports it." if request.args.get("sent") else None
    return _thread_page(number_id, _number(number_id), notice=notice)


@blueprint.post("/<number_id>/send")
@auth.requires("messages.send")
def send_reply(number_id: str):
    return _send(_number(number_id))


@blueprint.get("/<number_id>/consent")
@auth.requires("consent.read")
def consent_printable(number_id: str):
    number = _number(number_id)
    document = proof(_scope(), number, auth.now())
    return render_template("consent_proof.html", proof=document, number_id=number_id)


@blueprint.get("/<number_id>/consent.json")
@auth.requires("consent.read")
def consent_download(number_id: str):
    number = _number(number_id)
    document = proof(_scope(), number, auth.now())
    return Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="consent-{number_id[:12]}.json"', "Cache-Control": "no-store"})
