"""``/calls``, ``/voicemail``, ``/overview``: the JSON twins of the calls, voicemail and overview
pages, as stable response models (never the raw documents: no storage paths, nothing of another
business's).

Rules this module keeps:

* No personal data in a URL: ``GET /calls`` takes only the filters that hold none
  (``ListFilters``: dates, route, outcome, has-recording); the caller's number or name and
  search words go in the body of ``POST /calls/search`` (``CallFilters``), as the page posts its
  form. ``GET /calls?q=`` or ``?caller=`` is refused (422) rather than silently ignored: a
  client relying on it would otherwise get every call back as if it matched.
* Transcripts, search by words, voicemail texts and recording links need
  ``calls.recordings.play``; a viewer sees the calls without them.
* A recording link is minted by ``POST`` (a fresh short-lived credential each time, never a
  cached answer): the same links as the page's player (``shared.web.media``: a GCS V4 signed URL
  in production, else the page route's own signed URL, which also wants a signed-in member).
* Deleting a call is ``shared.voice.call_delete``: a provider down is a 503 and nothing of ours
  went.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from shared.accounts import permissions
from shared.accounts.errors import InvalidInput
from shared.tenants import TenantScope
from shared.voice import overview as numbers
from shared.voice import recording_links
from shared.voice.call_delete import delete_call
from shared.voice.call_search import CallFilters, ListFilters, mark_played, search_calls
from shared.voice.calls import CallRecord, require_call
from shared.voice.listing import transcript_lines
from shared.web import auth
from shared.web.media import recording_urls
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.models import ID
from shared.web.api.v1.routes import blueprint

PERSONAL_FILTERS = ("q", "caller")  # CallFilters' fields that ListFilters lacks


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
    """A page of calls and the filters that hold no personal data (the rest: POST /calls/search)."""


class CallSearch(PageQuery, CallFilters):
    """A page of calls and every filter, the caller and search words included."""

    model_config = ConfigDict(extra="forbid")


def call_page(scope: TenantScope, filters: ListFilters, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """The documents of one filtered page and the cursor of the next (pages and API share it)."""
    after = pagination.decode(cursor, scope.path("calls"), "created_at") if cursor else None
    found = search_calls(scope, filters, limit, after)
    next_cursor = pagination.encode(found.last.data.get("created_at"), found.last.id) if found.last else None
    return [doc.data for doc in found.calls], next_cursor


def _calls(filters: ListFilters, limit: int, cursor: str | None) -> Page[CallOut]:
    docs, next_cursor = call_page(_scope(), filters, limit, cursor)
    return Page[CallOut](items=[CallOut.of(doc) for doc in docs], next_cursor=next_cursor)


@operation(blueprint, "GET", "/calls", action="calls.read",
           summary="Calls, newest first, filtered by date, route, outcome and recording (to search by caller or "
                   "words: POST /calls/search)", response=Page[CallOut], query=CallQuery)
def list_calls(query: CallQuery) -> Page[CallOut]:
    sent = next((name for name in PERSONAL_FILTERS if name in request.args), None)
    if sent:
        raise InvalidInput(f"{sent}: the caller and search words are personal data and never go in a URL: "
                           "send them in the body of POST /calls/search", field=sent)
    return _calls(ListFilters.model_validate(query.model_dump(include=set(ListFilters.model_fields))),
                  query.limit, query.cursor)


@operation(blueprint, "POST", "/calls/search", action="calls.read",
           summary="Calls, newest first, filtered and searched by caller (number, last 4 digits or name) and "
                   "words (q needs calls.recordings.play)", response=Page[CallOut], body=CallSearch)
def search(body: CallSearch) -> Page[CallOut]:
    if body.q:
        permissions.require(auth.principal(), "calls.recordings.play")  # the search reads transcripts
    filters = CallFilters.model_validate(body.model_dump(include=set(CallFilters.model_fields)))
    return _calls(filters, body.limit, body.cursor)


class LiveCalls(BaseModel):
    items: list[CallOut] = Field(description="ringing or in progress, started within the last 4 hours, newest "
                                             "first (at most 20)")


@operation(blueprint, "GET", "/calls/live", action="calls.read", summary="The calls in progress",
           response=LiveCalls)
def live_calls() -> LiveCalls:
    calls = numbers.in_progress(_scope(), auth.now())
    return LiveCalls(items=[CallOut(**CallOut.fields_of(call)) for call in calls])


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


@operation(blueprint, "DELETE", "/calls/<call_sid>", action="calls.delete",
           summary="Delete a call with its transcript and recordings, the providers' copies first (503: nothing "
                   "was deleted, retry)", response=None, status=204, path_params={"call_sid": ID})
def delete_one_call(call_sid: str) -> None:
    info, principal = auth.client(), auth.principal()
    delete_call(auth.ports(), principal.tenant_id, call_sid, actor_user_id=principal.user_id, ip=info.ip,
                user_agent=info.user_agent)


class RecordingLinkOut(BaseModel):
    url: str = Field(description="where the audio plays from, with HTTP Range: on Cloud Storage a V4 signed URL; "
                                 "locally a path on this host (/app/calls/{call_sid}/recordings/{recording_sid}/"
                                 "audio?exp=..&sig=..) that also wants a signed-in member allowed "
                                 "calls.recordings.play")
    download_url: str = Field(description="the same, answered as an attachment")
    expires_at: dt.datetime


@operation(blueprint, "POST", "/calls/<call_sid>/recordings/<recording_sid>/link", action="calls.recordings.play",
           summary="A short-lived signed link to a recording's audio", response=RecordingLinkOut,
           path_params={"call_sid": ID, "recording_sid": ID})
def recording_link(call_sid: str, recording_sid: str) -> RecordingLinkOut:
    principal = auth.principal()
    recording = recording_links.recording_of(_scope(), call_sid, recording_sid)  # 404 unless this business's
    urls = recording_urls(principal.tenant_id, call_sid, recording)
    mark_played(_scope(), call_sid, auth.now())  # as opening the call on the page: the inbox's New goes
    return RecordingLinkOut(url=urls.play, download_url=urls.download, expires_at=urls.expires_at)


# --- the voicemail inbox -------------------------------------------------------------------------

class TakenMessageOut(BaseModel):
    name: str | None
    callback_number: str | None
    message: str
    urgent: bool
    at: dt.datetime | None


class VoicemailOut(CallOut):
    played: bool = Field(description="a member streamed its recording")
    played_at: dt.datetime | None
    transcription_status: Literal["completed", "failed"] | None = Field(
        description="Twilio's transcription of a voicemail; null while there is none (or for a message the AI took)")
    transcription: str | None = Field(description="the voicemail's text; null without calls.recordings.play")
    messages_taken: list[TakenMessageOut] | None = Field(
        description="the messages the AI took; null without calls.recordings.play")

    @classmethod
    def of(cls, data: dict[str, Any], may_read: bool) -> "VoicemailOut":
        transcript = data.get("voicemail_transcript") or {}
        status = transcript.get("status")
        taken = [TakenMessageOut(name=m.get("name"), callback_number=m.get("callback_number"),
                                 message=str(m.get("message") or ""), urgent=bool(m.get("urgent")), at=m.get("at"))
                 for m in data.get("messages_taken") or ()]
        return cls(**CallOut.fields_of(CallRecord.model_validate(data)), played=bool(data.get("played_at")),
                   played_at=data.get("played_at") or None,
                   transcription_status=status if status in ("completed", "failed") else None,
                   transcription=(transcript.get("text") or None) if may_read else None,
                   messages_taken=taken if may_read else None)


@operation(blueprint, "GET", "/voicemail", action="calls.read",
           summary="The calls that left a message (a voicemail, or a message the AI took), newest first",
           response=Page[VoicemailOut], query=PageQuery)
def voicemail(query: PageQuery) -> Page[VoicemailOut]:
    may_read = permissions.can(auth.principal(), "calls.recordings.play")
    docs, next_cursor = call_page(_scope(), ListFilters(outcome="message"), query.limit, query.cursor)
    return Page[VoicemailOut](items=[VoicemailOut.of(doc, may_read) for doc in docs], next_cursor=next_cursor)


# --- the overview --------------------------------------------------------------------------------

class KindCounts(BaseModel):
    """Calls by how they were handled (``shared.voice.overview.kind_of``)."""

    ai: int = Field(description="answered by the AI agent")
    forward: int = Field(description="forwarded to the business")
    voicemail: int
    missed: int
    other: int = Field(description="the menu (IVR) or rejected")

    @classmethod
    def of(cls, counts) -> "KindCounts":
        return cls(**{kind: counts[kind] for kind in numbers.KINDS})


class CountsOut(BaseModel):
    calls: int
    by_kind: KindCounts
    booked: int = Field(description="calls that booked an appointment")
    texts: int = Field(description="texts in and out")


class DayOut(BaseModel):
    day: dt.date = Field(description="a day of the business's time zone")
    calls: int
    by_kind: KindCounts


class OverviewOut(BaseModel):
    time_zone: str
    today: CountsOut
    week: CountsOut = Field(description="since Monday")
    per_day: list[DayOut] = Field(description=f"the last {numbers.DAYS} days, oldest first (the charts)")
    in_progress: list[CallOut]
    capped: bool = Field(description="true when the business had more calls or texts than the counts read: "
                                     "they are partial")


def _counts(counts: numbers.Counts) -> CountsOut:
    return CountsOut(calls=counts.calls, by_kind=KindCounts.of(counts.kinds), booked=counts.booked,
                     texts=counts.texts)


@operation(blueprint, "GET", "/overview", action="calls.read",
           summary="Today's and this week's calls by kind, bookings and texts, calls per day, calls in progress",
           response=OverviewOut)
def overview() -> OverviewOut:
    scope = _scope()
    tenant = scope.tenant()
    seen = numbers.overview(scope, tenant.zone, auth.now())
    return OverviewOut(time_zone=tenant.time_zone, today=_counts(seen.today), week=_counts(seen.week),
                       per_day=[DayOut(day=day, calls=sum(counts.values()), by_kind=KindCounts.of(counts))
                                for day, counts in seen.per_day],
                       in_progress=[CallOut(**CallOut.fields_of(call)) for call in seen.in_progress],
                       capped=seen.capped)
