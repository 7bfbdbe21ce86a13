"""An inbound text (Twilio's Messaging webhook): store it, act on consent keywords, reply once,
forward everything else to the business.

Order of work, chosen so that a failure anywhere is retried without loss or repetition:

1. **One transaction**: the message document ``tenants/{t}/messages/{MessageSid}`` (sender,
   recipient, body, media URLs, time, ``expire_at`` one year out) and, for STOP / START words,
   the consent event. A MessageSid seen before changes nothing (duplicate webhook). The store
   down -> ``StoreUnavailable`` -> 503, Twilio retries, and the retry does all of it: no
   consent event can be lost or doubled.
2. **The reply** (HELP, STOP, START), at once and through the send gate
   (``purpose="reply"``, ``source`` = the MessageSid), whose reservation makes it once even
   when the webhook is retried. The texts are ``shared.sms.texts``; the one given for STOP /
   START is the disclosure recorded in the ledger. The outcome is written on the inbound
   document (``reply``). Twilio down -> 503 -> the retry finds the message stored and the
   reply still pending, and sends it.
3. **Forwarding**: any other text is queued to the ``notify`` worker
   (``template="new_text_message"``), deduplicated by the MessageSid; it is also on the
   dashboard (the stored document).

Decisions written down:

* ``OptOutType`` present means Twilio's Advanced Opt-Out handled the keyword: it has updated its
  carrier-level block list *and sent its configured reply*. We record the consent change and
  do not reply ourselves, so the person gets one reply, not two (``reply.state =
  "provider_replied"``).
* Without Advanced Opt-Out, Twilio's default handling on long codes may still answer STOP
  itself and block the number; our confirmation then comes back as error 21610 and is recorded
  as ``blocked`` (the person has Twilio's). Either way there is one confirmation.
* A sender that is not a phone number (short code, alphanumeric id) is stored and forwarded
  but never touches the ledger and gets no reply.
* Retries: Twilio retries a messaging webhook only when its URL carries connection overrides
  (``#rc=<retries>&rp=<policy>``, retrying 5xx and timeouts), and only within its 15-second
  total budget. The deployment must configure the Messaging URL that way. An outage longer than
  that window is not covered here: the text stays in Twilio's message log, and replaying missed
  inbound texts from it (``client.messages.list(to=..., date_sent_after=...)`` through
  :func:`receive`, which is idempotent) is the reconciliation job still to build.
* Media stays at Twilio's URLs (they require our credentials); copying it is a later concern.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from shared import consent
from shared.consent.keywords import Intent, classify
from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.base import Model
from shared.ports import Ports
from shared.crm import events as crm_events
from shared.notifications import notify_business
from shared.pii.cards import mask_cards
from shared.sms import messages, texts
from shared.sms.gate import send_sms
from shared.tenants import TenantScope, tenant_for_number

log = get_logger("z3.sms.inbound")

MAX_MEDIA = 10  # Twilio delivers at most 10 media items per message


class MediaItem(Model):
    url: str
    content_type: str | None = None


class InboundSms(Model):
    """The parameters of Twilio's incoming-message request that we use."""

    # Bodies are kept as sent (no whitespace stripping): they are the person's words.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    message_sid: str
    account_sid: str = ""
    sender: str = Field(min_length=1, max_length=64)
    recipient: str = Field(min_length=1, max_length=64)
    body: str = Field(default="", max_length=10_000)
    media: list[MediaItem] = Field(default_factory=list)
    opt_out_type: str | None = None

    @field_validator("message_sid")
    @classmethod
    def _sid(cls, value: str) -> str:
        return messages.check_message_sid(value)

    @classmethod
    def from_form(cls, form: dict[str, str]) -> "InboundSms":
        """Parse Twilio's form parameters; :class:`InvalidInput` (400) for a malformed request."""
        for name in ("MessageSid", "From", "To"):
            if not form.get(name):
                raise InvalidInput(f"missing {name}")
        try:
            count = int(form.get("NumMedia") or 0)
        except ValueError:
            raise InvalidInput("NumMedia is not a number") from None
        if not 0 <= count <= MAX_MEDIA:
            raise InvalidInput("NumMedia out of range")
        media = []
        for i in range(count):
            url = form.get(f"MediaUrl{i}")
            if not url:
                raise InvalidInput(f"missing MediaUrl{i}")
            media.append(MediaItem(url=url, content_type=form.get(f"MediaContentType{i}")))
        return cls.model_validate({
            "message_sid": form["MessageSid"], "account_sid": form.get("AccountSid", ""), "sender": form["From"],
            "recipient": form["To"], "body": form.get("Body", ""), "media": media,
            "opt_out_type": form.get("OptOutType") or None,
        })


@dataclass(frozen=True)
class InboundOutcome:
    status: Literal["stored", "duplicate", "unknown_recipient"]
    tenant_id: str | None = None
    intent: str | None = None
    reply: str | None = None  # the reply's state: sent / blocked / provider_replied / none
    forwarded: bool = False


def receive(ports: Ports, msg: InboundSms) -> InboundOutcome:
    """Handle one inbound text (module docstring)."""

    store = ports.store()
    tenant = tenant_for_number(store, msg.recipient)
    if tenant is None:
        # Twilio does not retry a 4xx, and nothing is ours to store: answer 200 and say so in
        # the log, where an alert on this line finds a number misrouted in Twilio's console.
        log.warning("text to a number that belongs to no business", extra={"message_sid": msg.message_sid})
        return InboundOutcome("unknown_recipient")
    scope = TenantScope(store, tenant.id)
    now = ports.clock().now()
    sender = consent.try_e164(msg.sender)
    recipient = consent.try_e164(msg.recipient) or msg.recipient
    intent = classify(msg.body, msg.opt_out_type) if sender else None
    reply_text = texts.reply_for(intent.kind, tenant.name, recipient) if intent else None
    reply_state = "none" if intent is None else ("provider_replied" if intent.source == "opt_out_type" else "pending")
    path = f"messages/{msg.message_sid}"

    def apply(tx: Any) -> tuple[dict[str, Any], bool, consent.RecordResult | None]:
        existing = tx.get(path)
        if existing is not None:
            return existing, False, None
        recorded = None
        if intent is not None and intent.kind in ("opt_out", "opt_in") and sender:
            recorded = consent.record_in(tx, tenant.id, sender, action=intent.kind, method="keyword",
                                         disclosure=reply_text or "", source_type="message",
                                         source_id=msg.message_sid, now=now, keyword=intent.keyword)
        doc = _message_doc(tenant.id, msg, sender, recipient, intent, reply_text, reply_state, now)
        tx.create(path, doc)
        return doc, True, recorded

    doc, created, recorded = scope.transaction(apply)
    if created and intent is not None:
        log.info("consent keyword received", extra={"tenant_id": tenant.id, "message_sid": msg.message_sid,
                                                    "intent": intent.kind, "source": intent.source})
    consent.log_recorded(recorded)
    reply = _reply(ports, scope, doc, now)
    forwarded = _forward(ports, scope, doc)
    return InboundOutcome("stored" if created else "duplicate", tenant.id, doc.get("intent"), reply, forwarded)


def _message_doc(tenant_id: str, msg: InboundSms, sender: str | None, recipient: str, intent: Intent | None,
                 reply_text: str | None, reply_state: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": msg.message_sid, "sid": msg.message_sid, "tenant_id": tenant_id, "direction": "inbound",
        "from": sender or msg.sender, "to": recipient, "body": mask_cards(msg.body),
        "media": [m.to_doc() for m in msg.media], "media_urls": [m.url for m in msg.media],
        "received_at": now, "created_at": now, "expire_at": messages.expire_at(now),
        "intent": intent.kind if intent else None, "keyword": intent.keyword if intent else None,
        "intent_source": intent.source if intent else None,
        "reply": {"state": reply_state, "body": reply_text, "sid": None, "reason": None},
        "forward": {"state": "pending" if intent is None else "none"},
        **messages.apply_status(None, "received", at=now),
    }


def _reply(ports: Ports, scope: Any, doc: dict[str, Any], now: dt.datetime) -> str:
    """Send the keyword reply if it is still pending; record what happened on the message."""

    reply = doc.get("reply") or {}
    if reply.get("state") != "pending":
        return reply.get("state") or "none"
    result = send_sms(ports, scope, doc["from"], reply["body"], purpose="reply", source=doc["id"], now=now)
    state = "sent" if result.sent else "blocked"
    scope.update(f"messages/{doc['id']}", {
        "reply": {**reply, "state": state, "sid": result.sid, "reason": result.reason.value if result.reason else None},
        "updated_at": now})
    return state


def _forward(ports: Ports, scope: Any, doc: dict[str, Any]) -> bool:
    """Queue the business's notification for an ordinary text (deduplicated by sid)."""

    if (doc.get("forward") or {}).get("state") != "pending":
        return False
    received = doc.get("received_at")
    notify_business(ports, tenant_id=scope.tenant_id, template="new_text_message", dedup_key=f"sms:{doc['id']}",
                    context={"message_sid": doc["id"], "from": doc.get("from"), "to": doc.get("to"),
                             "body": doc.get("body", ""), "media_count": len(doc.get("media_urls") or []),
                             "received_at": received.isoformat() if isinstance(received, dt.datetime) else None})
    crm_events.message_received(ports, scope.tenant_id, doc)
    scope.update(f"messages/{doc['id']}", {"forward": {"state": "queued"}})
    return True
