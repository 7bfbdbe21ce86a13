"""The calls pages: the list (filters and search), one call in detail with its recording player
(``shared.web.media``: a GCS V4 signed URL in production, else the stream below), the recording
stream itself (signed, short-lived, HTTP Range), and deleting a call. Opening a call with a
recording as a member who may hear it marks it played (the voicemail inbox's New).

Filters that hold personal data (the caller's number or name, search words) are posted with
the form, never put in the URL; the list's own links carry ids and an opaque cursor only."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, redirect, render_template, request, url_for
from pydantic import ValidationError

from shared.accounts import permissions
from shared.accounts.errors import InvalidInput
from shared.tenants import TenantScope
from shared.voice import recording_links
from shared.voice.call_delete import delete_call
from shared.voice.call_search import CallFilters, mark_played
from shared.voice.calls import CallRecord, require_call
from shared.voice.listing import transcript_turns
from shared.web import auth
from shared.web.api.v1.calls import call_page
from shared.web.errors import validation_message
from shared.web.media import recording_urls

blueprint = Blueprint("calls", __name__, url_prefix="/calls")
PAGE_SIZE = 25
ROUTES = (("ai", "AI agent"), ("ivr", "Menu (IVR)"), ("forward", "Forwarded"), ("voicemail", "Voicemail"),
          ("rejected", "Rejected"))
OUTCOMES = (("booked", "Booked"), ("message", "Message taken"), ("missed", "Missed"), ("answered", "Answered"),
            ("rejected", "Rejected"))


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


def _filters(form) -> CallFilters:
    data = {k: v for k, v in form.items() if k in CallFilters.model_fields and v != ""}
    zone = _scope().tenant().zone
    for key in ("since", "until"):  # <input type="date">: a day in the business's time zone
        if key in data:
            try:
                day = dt.date.fromisoformat(data[key])
            except ValueError:
                raise InvalidInput(f"{key}: not a date", field=key) from None
            data[key] = dt.datetime.combine(day + dt.timedelta(days=1 if key == "until" else 0), dt.time(),
                                            tzinfo=zone)
    if "has_recording" in data:
        data["has_recording"] = data["has_recording"] == "yes"
    return CallFilters.model_validate(data)


@blueprint.route("", methods=["GET", "POST"])
@auth.requires("calls.read")
def index():
    form = request.form if request.method == "POST" else request.args
    error = None
    try:
        filters = _filters(form)
        if filters.q:
            permissions.require(auth.principal(), "calls.recordings.play")
        docs, next_cursor = call_page(_scope(), filters, PAGE_SIZE, form.get("cursor") or None)
    except (ValidationError, InvalidInput) as exc:
        error = validation_message(exc) if isinstance(exc, ValidationError) else exc.message
        docs, next_cursor, filters = [], None, CallFilters()
    tenant = _scope().tenant()
    calls = [CallRecord.model_validate(doc) for doc in docs]
    return render_template("calls.html", calls=calls, next_cursor=next_cursor, form=form, zone=tenant.zone,
                           routes=ROUTES, outcomes=OUTCOMES, error=error,
                           may_search=permissions.can(auth.principal(), "calls.recordings.play")), \
        422 if error else 200


@blueprint.get("/<call_sid>")
@auth.requires("calls.read")
def detail(call_sid: str):
    call = require_call(_scope(), call_sid)
    principal = auth.principal()
    may_hear = permissions.can(principal, "calls.recordings.play")
    links = {}
    if may_hear:
        links = {rec.recording_sid: recording_urls(principal.tenant_id, call.call_sid, rec) for rec in call.recordings}
        if call.recordings:
            mark_played(_scope(), call_sid, auth.now())  # heard: the inbox's New goes (GCS streams without us)
    return render_template("call.html", call=call, zone=_scope().tenant().zone, may_hear=may_hear, links=links,
                           turns=transcript_turns(call.transcript) if may_hear else [],
                           may_delete=permissions.can(principal, "calls.delete"))


@blueprint.get("/<call_sid>/recordings/<recording_sid>/audio")
@auth.requires("calls.recordings.play")
def audio(call_sid: str, recording_sid: str):
    principal = auth.principal()
    recording_links.verify(auth.ports().settings.secret("z3_media_signing_key"), principal.tenant_id, call_sid,
                           recording_sid, request.args.get("exp"), request.args.get("sig"), auth.now())
    recording = recording_links.recording_of(_scope(), call_sid, recording_sid)
    data = auth.ports().blobs().get(recording.blob_path)
    response = Response(data, mimetype=recording_links.content_type(recording))
    if request.args.get("download") == "1":
        extension = recording.blob_path.rsplit(".", 1)[-1]
        response.headers["Content-Disposition"] = f'attachment; filename="{call_sid}-{recording_sid}.{extension}"'
    # werkzeug answers Range with 206 + Content-Range (416 when unsatisfiable): seeking works
    return response.make_conditional(request.environ, accept_ranges=True, complete_length=len(data))


@blueprint.post("/<call_sid>/delete")
@auth.requires("calls.delete")
def delete(call_sid: str):
    info = auth.client()
    principal = auth.principal()
    delete_call(auth.ports(), principal.tenant_id, call_sid, actor_user_id=principal.user_id, ip=info.ip,
                user_agent=info.user_agent)
    return redirect(url_for("calls.index", deleted=1), code=303)
