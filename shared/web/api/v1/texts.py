"""``/conversations``, ``/numbers/{number_id}/messages``, ``POST /messages``,
``/numbers/{number_id}/consent/proof``: the Texts pages' JSON twin, over the same services
(``shared.sms.conversations``, ``shared.consent.proof``).

* Bounded, not paged, as the service is: the conversations are those among the newest
  ``conversations.SCAN`` messages (newest first), a thread the newest ``conversations.THREAD``
  messages with the number (oldest first). A number is in the answer, never in the URL.
* A text is sent through ``conversations.send_text`` (the one send gate). ``send_id`` is the
  client's idempotency key and is required: the same ``send_id`` to the same number is one text
  (a retry answers 201 with the text already sent, in its current status); reused for other words, 409.
* A refusal by the gate is 422 (what the page answers): the gate's reason is the error code
  (``not_opted_in``, ``opted_out``, ``quiet_hours`` ...), the message its words
  (``conversations.refusal_text``), ``field`` is ``to``, and quiet hours carry ``retry_at``.
  Not a 409: nothing about the request conflicts with a resource's version; it is this text to
  this number that may not be sent (the refusal is stored, with its reason, in the thread).
* A number without a consent record has no proof: 404, as ``/numbers/{number_id}/consent``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts.errors import Conflict, InvalidInput, NotFound
from shared.consent.proof import proof
from shared.contacts import ids
from shared.sms import conversations
from shared.tenants import TenantScope, profile
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.models import NUMBER_ID
from shared.web.api.v1.records import MessageOut
from shared.web.api.v1.routes import blueprint

PREVIEW = 140  # characters of the last message, as the page shows


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


def _number(scope: TenantScope, number_id: str) -> str:
    try:
        return ids.number_of(scope, number_id)
    except ids.UnknownNumberId:
        raise NotFound("This business has no number with that id.") from None


class ConversationOut(BaseModel):
    number_id: str = Field(description="the number as an id: /numbers/{number_id}/messages")
    number: str = Field(description="E.164")
    name: str | None = Field(description="the contact's name, if the number is a contact")
    preview: str = Field(description=f"the last message's first {PREVIEW} characters")
    last_direction: Literal["inbound", "outbound"] | None
    last_status: str | None = Field(description="received, queued, sent, delivered, failed, blocked ...")
    last_at: dt.datetime
    messages: int = Field(description="messages with this number among the newest scanned")

    @classmethod
    def of(cls, found: conversations.Conversation) -> "ConversationOut":
        direction = found.last_direction if found.last_direction in ("inbound", "outbound") else None
        return cls(number_id=found.number_id, number=found.number, name=found.name,
                   preview=found.last_body[:PREVIEW], last_direction=direction, last_status=found.last_status or None,
                   last_at=found.last_at, messages=found.messages)


class ConversationList(BaseModel):
    items: list[ConversationOut] = Field(description="newest first")
    scanned: int = Field(description=f"the list covers the newest {conversations.SCAN} messages (not paged)")


@operation(blueprint, "GET", "/conversations", action="messages.read",
           summary=f"Conversations per number, newest first (among the newest {conversations.SCAN} messages)",
           response=ConversationList)
def list_conversations() -> ConversationList:
    found = conversations.conversations(auth.ports(), auth.principal().tenant_id)
    return ConversationList(items=[ConversationOut.of(c) for c in found], scanned=conversations.SCAN)


class ThreadOut(BaseModel):
    number_id: str
    number: str = Field(description="E.164")
    name: str | None
    messages: list[MessageOut] = Field(description=f"oldest first; the newest {conversations.THREAD}")


@operation(blueprint, "GET", "/numbers/<number_id>/messages", action="messages.read",
           summary="The conversation with one number: its texts and their delivery status", response=ThreadOut,
           path_params={"number_id": NUMBER_ID})
def get_thread(number_id: str) -> ThreadOut:
    scope = _scope()
    number = _number(scope, number_id)
    codec = ids.NumberIds(scope)
    contact = scope.get(f"contacts/{number}") or {}
    messages = conversations.thread(auth.ports(), scope.tenant_id, number)
    return ThreadOut(number_id=number_id, number=number, name=contact.get("name"),
                     messages=[MessageOut.of(m, codec) for m in messages])


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(max_length=40, description="a US number, in any common notation", examples=["(303) 555-0142"])
    body: str = Field(min_length=1, max_length=conversations.BODY_MAX)
    send_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{16,64}$",
                         description="your idempotency key: a retry with the same send_id sends nothing new")


class SendRefused(InvalidInput):
    """The gate refused the text: 422, its reason as the code (module docstring)."""

    def __init__(self, reason: str, message: str, retry_at: dt.datetime | None) -> None:
        super().__init__(message, field="to")
        self.code = reason
        self.retry_at = retry_at

    def details(self) -> dict[str, Any]:
        found = super().details()
        if self.retry_at is not None:
            found["retry_at"] = self.retry_at.astimezone(dt.timezone.utc).isoformat()
        return found


@operation(blueprint, "POST", "/messages", action="messages.send",
           summary="Send a text through the send gate (consent, quiet hours); 422 with the reason when refused",
           response=MessageOut, status=201, body=TextIn, errors=(409,))
def send_message(body: TextIn) -> MessageOut:
    scope = _scope()
    result = conversations.send_text(auth.ports(), auth.principal(), body.to, body.body, body.send_id)
    if result.status == "blocked":
        zone = profile.get(scope.store, scope.tenant_id).time_zone
        reason = result.reason.value if result.reason else "blocked"
        raise SendRefused(reason, conversations.refusal_text(reason, result.retry_at, zone), result.retry_at)
    stored = scope.get(f"messages/{result.message_id}")
    if stored is None:  # sent earlier, and its record is gone (retention): nothing to show, nothing resent
        raise Conflict("This send_id was used for a text sent earlier.", field="send_id")
    if result.status == "duplicate" and (stored.get("body") or "") != body.body.strip():
        raise Conflict("This send_id was used for another text; use a new send_id for a new text.",
                       field="send_id")
    return MessageOut.of(stored, ids.NumberIds(scope))


class ProofEventOut(BaseModel):
    seq: int
    at: str = Field(description="UTC, ISO 8601")
    action: Literal["opt_in", "opt_out"]
    method: Literal["verbal", "keyword", "web", "carrier"]
    disclosure: str = Field(description="the exact words the person was given")
    source_type: Literal["message", "call", "web", "carrier"]
    source_id: str
    keyword: str | None
    prev_hash: str
    hash: str


class ProofChainOut(BaseModel):
    ok: bool
    length: int
    broken_at: int | None
    reason: str
    hash_version: int
    rule: str = Field(description="how to recompute each hash without our code")


class ProofBusinessOut(BaseModel):
    id: str
    name: str


class ConsentProofOut(BaseModel):
    """The document ``shared.consent.proof`` makes (the page's JSON download)."""

    business: ProofBusinessOut
    number: str
    state: Literal["opted_in", "opted_out", "never_asked"]
    generated_at: str = Field(description="UTC, ISO 8601")
    chain: ProofChainOut
    events: list[ProofEventOut] = Field(description="oldest first")


@operation(blueprint, "GET", "/numbers/<number_id>/consent/proof", action="consent.read",
           summary="A number's consent proof: every event of its hash chain and the check of it, as a carrier asks",
           response=ConsentProofOut, path_params={"number_id": NUMBER_ID})
def get_consent_proof(number_id: str) -> ConsentProofOut:
    scope = _scope()
    document = proof(scope, _number(scope, number_id), auth.now())
    if not document["events"] and document["chain"]["ok"]:
        raise NotFound("This business has no consent record for that number.")
    return ConsentProofOut.model_validate(document)
