"""``/calls``, ``/messages``, ``/numbers/{number_id}/consent``: what the voice and SMS functions wrote, as stable
response models (never the raw documents: no storage paths, no send keys, nothing of another
business's). Transcripts need ``calls.recordings.play``; a viewer sees the call without them.
A phone number is never in a URL: each message carries ``number_id`` (the other party's
number as an opaque id, ``shared.contacts.ids``) and the consent record is addressed by it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared import consent
from shared.accounts import permissions
from shared.accounts.errors import NotFound
from shared.contacts import ids
from shared.tenants import TenantScope
from shared.voice.call_search import ListFilters, search_calls
from shared.voice.calls import CallRecord, require_call
from shared.voice.listing import transcript_lines
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.sms.conversations import counterpart
from shared.web.api.v1.models import ID, NUMBER_ID
from shared.web.api.v1.routes import blueprint


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


class CallOut(BaseModel):
    call_sid: str
    from_: str | None = Field(serialization_alias="from", description="E.164; null for an anonymous caller")
    to: str | None
    caller_name: str | None
    direction: str | None
    route: str | None
    status: str | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: float | None = Field(description="seconds")
    answered_by: str | None
    summary: str | None
    recording_notice_played: bool
    recordings: int = Field(description="how many recordings are stored")
    outcome: str | None = Field(description="booked, message, missed, answered or rejected")
    created_at: dt.datetime | None

    @classmethod
    def fields_of(cls, call: CallRecord) -> dict[str, Any]:
        return {"call_sid": call.call_sid, "from_": call.from_, "to": call.to, "caller_name": call.caller_name,
                "direction": call.direction, "route": call.route, "status": call.status,
                "started_at": call.started_at, "ended_at": call.ended_at, "duration": call.duration,
                "answered_by": call.answered_by, "summary": call.summary,
                "recording_notice_played": call.recording_notice_played, "recordings": len(call.recordings),
                "outcome": call.outcome, "created_at": call.created_at}

    @classmethod
    def of(cls, data: dict[str, Any]) -> "CallOut":
        return cls(**cls.fields_of(CallRecord.model_validate(data)))


class StatusOut(BaseModel):
    status: str
    at: dt.datetime


class RouteOut(BaseModel):
    route: str
    reason: str
    detail: str
    at: dt.datetime


class RecordingOut(BaseModel):
    recording_sid: str
    source: Literal["twilio", "retell"]
    duration: float | None
    size: int
    stored_at: dt.datetime


class CallDetail(CallOut):
    route_reason: str | None
    route_detail: str | None
    route_history: list[RouteOut]
    status_history: list[StatusOut]
    recording_files: list[RecordingOut]
    sentiment: str | None
    transcript: str | None = Field(description="null without the calls.recordings.play permission")


class CallQuery(PageQuery, ListFilters):
    """A page of calls and its filters (the caller's number or name never travels in a URL)."""


def call_page(scope: TenantScope, filters: ListFilters, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """The documents of one filtered page and the cursor of the next (pages and API share it)."""
    after = pagination.decode(cursor, scope.path("calls"), "created_at") if cursor else None
    found = search_calls(scope, filters, limit, after)
    next_cursor = pagination.encode(found.last.data.get("created_at"), found.last.id) if found.last else None
    return [doc.data for doc in found.calls], next_cursor


@operation(blueprint, "GET", "/calls", action="calls.read", summary="Calls, newest first, filtered and searched",
           response=Page[CallOut], query=CallQuery)
def list_calls(query: CallQuery) -> Page[CallOut]:
    filters = ListFilters.model_validate(query.model_dump(include=set(ListFilters.model_fields)))
    if filters.q:
        permissions.require(auth.principal(), "calls.recordings.play")  # the search reads transcripts
    docs, next_cursor = call_page(_scope(), filters, query.limit, query.cursor)
    return Page[CallOut](items=[CallOut.of(doc) for doc in docs], next_cursor=next_cursor)


@operation(blueprint, "GET", "/calls/<call_sid>", action="calls.read", summary="One call", response=CallDetail,
           path_params={"call_sid": ID})
def get_one_call(call_sid: str) -> CallDetail:
    call = require_call(_scope(), call_sid)
    may_hear = permissions.can(auth.principal(), "calls.recordings.play")
    transcript = (transcript_lines(call.transcript) or None) if may_hear else None
    return CallDetail(
        **CallOut.fields_of(call), route_reason=call.route_reason, route_detail=call.route_detail,
        route_history=[RouteOut(**r.model_dump()) for r in call.route_history],
        status_history=[StatusOut(**s.model_dump()) for s in call.status_history],
        recording_files=[RecordingOut(**r.model_dump(exclude={"blob_path", "sha256"})) for r in call.recordings],
        sentiment=call.sentiment, transcript=transcript)


class MessageOut(BaseModel):
    id: str
    direction: Literal["inbound", "outbound"] | None
    from_: str | None = Field(serialization_alias="from")
    to: str | None
    body: str | None
    status: str | None
    error_code: str | None
    blocked_reason: str | None = Field(description="why the send gate refused it (no consent, quiet hours ...)")
    purpose: str | None
    media: int = Field(description="number of attachments")
    number_id: str | None = Field(description="the other party's number as an id: /numbers/{number_id}/consent")
    created_at: dt.datetime

    @classmethod
    def of(cls, data: dict[str, Any], codec: ids.NumberIds | None = None) -> "MessageOut":
        code = data.get("error_code")
        other = counterpart(data)
        return cls(id=data.get("id") or "", direction=data.get("direction"), from_=data.get("from"),
                   to=data.get("to"), body=data.get("body"), status=data.get("status"),
                   error_code=str(code) if code is not None else None, blocked_reason=data.get("blocked_reason"),
                   purpose=data.get("purpose"), media=len(data.get("media") or ()),
                   number_id=codec.id(other) if codec and other and other.startswith("+") else None,
                   created_at=data["created_at"])


@operation(blueprint, "GET", "/messages", action="messages.read", summary="Texts in and out, newest first",
           response=Page[MessageOut], query=PageQuery)
def list_messages(query: PageQuery) -> Page[MessageOut]:
    scope = _scope()
    codec = ids.NumberIds(scope)
    return pagination.page(scope, "messages", "created_at", "desc", query, lambda d: MessageOut.of(d, codec),
                           Page[MessageOut])


class ConsentEventOut(BaseModel):
    seq: int
    action: Literal["opt_in", "opt_out"]
    method: Literal["verbal", "keyword", "web", "carrier"]
    at: dt.datetime
    disclosure: str
    source_type: Literal["message", "call", "web", "carrier"]
    source_id: str
    keyword: str | None


class ChainOut(BaseModel):
    ok: bool
    length: int
    broken_at: int | None
    reason: str


class ConsentOut(BaseModel):
    number: str
    state: Literal["opted_in", "opted_out", "never_asked"]
    chain: ChainOut
    events: list[ConsentEventOut] = Field(description="oldest first")


@operation(blueprint, "GET", "/numbers/<number_id>/consent", action="consent.read",
           summary="A number's SMS consent history and the check of its hash chain", response=ConsentOut,
           path_params={"number_id": NUMBER_ID})
def get_consent(number_id: str) -> ConsentOut:
    scope = _scope()
    try:
        number = ids.number_of(scope, number_id)
    except ids.UnknownNumberId:
        raise NotFound("This business has no number with that id.") from None
    events = consent.history(scope, number)
    report = consent.verify_chain(scope, number)
    if not events and report.ok:
        raise NotFound("This business has no consent record for that number.")
    return ConsentOut(number=number, state=report.state.value,
                      chain=ChainOut(ok=report.ok, length=report.length, broken_at=report.broken_at,
                                     reason=report.reason),
                      events=[ConsentEventOut(**e.model_dump(include=set(ConsentEventOut.model_fields)))
                              for e in events])
