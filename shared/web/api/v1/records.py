"""``/messages``, ``/numbers/{number_id}/consent``: what the SMS functions wrote, as stable
response models (never the raw documents: no send keys, nothing of another business's; the
calls are ``shared.web.api.v1.calls``). A phone number is never in a URL: each message carries
``number_id`` (the other party's number as an opaque id, ``shared.contacts.ids``) and the
consent record is addressed by it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared import consent
from shared.accounts.errors import NotFound
from shared.contacts import ids
from shared.tenants import TenantScope
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.sms.conversations import counterpart
from shared.web.api.v1.models import NUMBER_ID
from shared.web.api.v1.routes import blueprint


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


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
