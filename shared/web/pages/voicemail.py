"""The voicemail inbox: the calls that left a message (a voicemail, or a message the AI took),
newest first, unplayed ones marked, with the message's text (Twilio's transcription of a
voicemail, the AI's note of a message) for roles that may read transcripts. A voicemail counts
as played once a member who may hear it opened the call (``pages/calls.detail``, where the
player is: on GCS the audio streams from the bucket, not through us)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from shared.accounts import permissions
from shared.tenants import TenantScope
from shared.voice.call_search import ListFilters
from shared.voice.calls import CallRecord
from shared.web import auth
from shared.web.api.v1.calls import call_page

blueprint = Blueprint("voicemail", __name__, url_prefix="/voicemail")
PAGE_SIZE = 25


@blueprint.get("")
@auth.requires("calls.read")
def inbox():
    scope = TenantScope(auth.ports().store(), auth.principal().tenant_id)
    docs, next_cursor = call_page(scope, ListFilters(outcome="message"), PAGE_SIZE, request.args.get("cursor") or None)
    items = [(CallRecord.model_validate(doc), doc) for doc in docs]
    return render_template("voicemail.html", items=items, next_cursor=next_cursor, zone=scope.tenant().zone,
                           may_read=permissions.can(auth.principal(), "calls.recordings.play"))
