"""Texts as the dashboard shows them: conversations per number, one thread, and sending a
text a person typed -- through the one send gate, whose refusal comes back with its reason in
words (:data:`REFUSALS`).

* A conversation is every message between the business and one number (inbound ``from``,
  outbound ``to``), named by the number's id (``shared.contacts.ids``), never the number.
* Reads are bounded: the conversation list reads the newest :data:`SCAN` messages, a thread the
  newest :data:`THREAD` each way.
* A typed text is sent with ``purpose="follow_up"`` and ``source="dash-{send_id}"``, where
  ``send_id`` is a nonce the send form carries: the same form submitted twice is one text
  (the gate answers ``duplicate``); a new form is a new text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.accounts.errors import Conflict, Forbidden, InvalidInput
from shared.accounts.principal import Principal
from shared.contacts import ids
from shared.idempotency import InProgress
from shared.phone import try_normalize_us
from shared.ports import Ports, Query
from shared.sms.gate import BlockReason, SendResult, send_sms
from shared.tenants import TenantScope
from shared.voice.contacts import contact_path

SCAN = 300
THREAD = 100
BODY_MAX = 1600  # Twilio's limit for one message
_SEND_ID = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")

REFUSALS: dict[str, str] = {
    BlockReason.not_opted_in.value: "Not sent: this number has not opted in to texts from your business.",
    BlockReason.opted_out.value: "Not sent: this number has opted out of texts (STOP or a request not to be texted).",
    BlockReason.quiet_hours.value: "Not sent: quiet hours in the recipient's time zone "
                                   "(texts go out between 8 a.m. and 9 p.m. their time).",
    BlockReason.invalid_number.value: "Not sent: that is not a valid US phone number.",
    BlockReason.tenant_not_in_service.value: "Not sent: your business has no active texting number right now.",
    BlockReason.provider_rejected.value: "Not sent: the carrier refused this text.",
}


@dataclass(frozen=True)
class Conversation:
    number_id: str
    number: str
    name: str | None
    last_body: str
    last_direction: str
    last_status: str
    last_at: dt.datetime
    messages: int  # among the newest SCAN


def counterpart(message: dict[str, Any]) -> str | None:
    return message.get("from") if message.get("direction") == "inbound" else message.get("to")


def refusal_text(reason: str | None, retry_at: dt.datetime | None = None, time_zone: str = "America/New_York") -> str:
    text = REFUSALS.get(reason or "", "Not sent.")
    if reason == BlockReason.quiet_hours.value and retry_at is not None:
        local = retry_at.astimezone(ZoneInfo(time_zone))
        text += f" The next allowed time is {local.strftime('%a %b %-d, %-I:%M %p')} ({time_zone})."
    return text


def conversations(ports: Ports, tenant_id: str) -> list[Conversation]:
    scope = TenantScope(ports.store(), tenant_id)
    docs = scope.query(scope.collection("messages").order_by("created_at", "desc").page(SCAN))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        number = counterpart(doc.data)
        if number and try_normalize_us(number) == number:
            grouped.setdefault(number, []).append(doc.data)
    number_ids = ids.ids_for(scope, list(grouped))
    contacts = scope.store.get_many([scope.path(contact_path(number)) for number in grouped])  # one round trip
    out = []
    for number, messages in grouped.items():
        last = messages[0]
        contact = contacts.get(scope.path(contact_path(number))) or {}
        out.append(Conversation(number_ids[number], number, contact.get("name"), last.get("body") or "",
                                last.get("direction") or "", last.get("status") or "", last["created_at"],
                                len(messages)))
    return out


def thread(ports: Ports, tenant_id: str, number: str) -> list[dict[str, Any]]:
    """The newest messages with ``number``, oldest first (each the stored document's fields)."""
    scope = TenantScope(ports.store(), tenant_id)
    base = scope.collection("messages")
    inbound = scope.query(base.where("from", "==", number).order_by("created_at", "desc").page(THREAD))
    outbound = scope.query(base.where("to", "==", number).order_by("created_at", "desc").page(THREAD))
    mine = {d.id: d.data for d in (*inbound, *outbound) if counterpart(d.data) == number}
    newest = sorted(mine.values(), key=lambda m: m["created_at"], reverse=True)[:THREAD]
    return list(reversed(newest))


def send_text(ports: Ports, actor: Principal, raw_number: str, body: str, send_id: str) -> SendResult:
    """Send what a person typed to one number, if the gate allows (module docstring)."""
    number = try_normalize_us((raw_number or "").strip())
    if number is None:
        raise InvalidInput("Enter a valid US phone number.", field="to")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write the text to send.", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"A text has at most {BODY_MAX} characters.", field="body")
    if not isinstance(send_id, str) or not _SEND_ID.match(send_id):
        raise InvalidInput("The form expired; reload the page and send again.", field="send_id")
    _require_a_confirmed_owner(ports, actor.tenant_id)
    try:
        return send_sms(ports, actor.tenant_id, number, body, purpose="follow_up", source=f"dash-{send_id}")
    except InProgress:
        raise Conflict("This text is being sent already.") from None


def _require_a_confirmed_owner(ports: Ports, tenant_id: str) -> None:
    """Texting from the dashboard is on only for a business whose owner confirmed the email (the
    same rule as billing: ``shared.accounts.signup.require_verified``)."""
    owners = ports.store().query(Query(f"tenants/{tenant_id}/users").where("role", "==", "owner").page(5))
    if not any(doc.data.get("email_verified_at") for doc in owners):
        raise Forbidden("Confirm your email address first: texting and billing stay off until you do.")
