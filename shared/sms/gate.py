"""The one send gate: every outbound text in the product goes through :func:`send_sms`.

Nothing else calls Twilio's message API (``tests/unit/test_sms_gate_is_the_only_sender.py``
greps the code base for it). The gate decides, records and sends:

1. **Consent.** The number must be ``opted_in`` in the consent ledger; ``opted_out`` and
   ``never_asked`` are refused (``opted_out`` / ``not_opted_in``). The one exception are
   *compliance replies*: the reply to a HELP, STOP or START text, sent with
   ``purpose="reply"`` and ``source`` = that inbound message's sid, to the number that sent it,
   within :data:`REPLY_WINDOW` of its arrival, with exactly the text ``sms_inbound`` decided to
   owe it (stored on the inbound message as ``reply.body``, state ``pending``). The gate checks
   all of that against the stored inbound message instead of trusting the caller, so "reply" is
   not a way around consent: an opt-out confirmation reaches only the number that just opted
   out, once, and no other words can ride on it; when Twilio already answered the keyword
   (Advanced Opt-Out) nothing is owed and nothing more goes out.
2. **Quiet hours.** Anything that is not an immediate reply (a reply to the sender of a stored
   inbound text within :data:`REPLY_WINDOW`) is sent only between 8 a.m. and 9 p.m. in the
   recipient's local time (``shared.sms.timezones``; unknown area codes use the business's
   zone). A refusal carries ``retry_at``, the next allowed instant, so a follow-up scheduler
   can defer instead of dropping.
3. **The number and the business.** Only valid US numbers (``invalid_number``); only businesses
   in service and from one of their own numbers (``tenant_not_in_service``). Compliance replies
   still go out for a suspended business: the law owes the person an answer, not the business.
4. **Once per (purpose, source, recipient).** A reservation document
   (``sms_sends/{key}``) makes a retried webhook or task send nothing new: ``duplicate``.
   While one attempt is in flight (a 2-minute lease) a concurrent one gets ``InProgress``
   (409, retry later). If the process dies after Twilio accepted the text but before we
   recorded it, the lease expires and a retry sends again: at least once, never silently lost.

Every refusal is logged (tenant id, reason, purpose; never the number or the body) and stored
as a message document with status ``blocked`` and the reason. Sent texts are stored under
Twilio's sid with ``expire_at`` one year out and Twilio's status callback pointed at
``sms_status``.

Twilio's answers: unreachable, timeout, 429 or 5xx -> :class:`TwilioUnavailable` (a
``StoreUnavailable``: the webhook answers 503, a worker retries; the reservation is released).
21610 (the recipient texted STOP to the carrier) -> the ledger records ``opted_out`` with
method ``carrier`` (unless it already says opted out) and the text is ``blocked``/``opted_out``. 21211/21614/21612/21408 ->
``invalid_number``. Any other 4xx -> ``provider_rejected`` with Twilio's code.

A consent change that lands between the decision and Twilio's answer (a STOP arriving in the
same ~100 ms) is not seen by that one send; the next one is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from shared import consent
from shared.idempotency import InProgress
from shared.logging import get_logger
from shared.phone import try_normalize_us
from shared.ports import Ports, StoreError
from shared.sms import messages
from shared.sms.timezones import next_allowed, recipient_zones
from shared.tenants import TenantScope, UnknownTenant

log = get_logger("z3.sms")

Purpose = Literal["reply", "notification", "follow_up"]
PURPOSES: tuple[str, ...] = ("reply", "notification", "follow_up")
REPLY_WINDOW = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=2)
COMPLIANCE_INTENTS = frozenset({"help", "opt_out", "opt_in"})
_SOURCE = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
INVALID_NUMBER_CODES = frozenset({21211, 21612, 21614, 21408, 21421, 21401})
CARRIER_OPT_OUT_CODE = 21610


class BlockReason(str, Enum):
    not_opted_in = "not_opted_in"
    opted_out = "opted_out"
    quiet_hours = "quiet_hours"
    invalid_number = "invalid_number"
    tenant_not_in_service = "tenant_not_in_service"
    provider_rejected = "provider_rejected"


@dataclass(frozen=True)
class SendResult:
    status: Literal["sent", "blocked", "duplicate"]
    message_id: str  # the message document's id (Twilio's sid, or ``blocked_...``)
    sid: str | None = None
    reason: BlockReason | None = None
    retry_at: dt.datetime | None = None  # quiet hours: the next allowed instant
    error_code: int | None = None

    @property
    def sent(self) -> bool:
        """Twilio has (now or earlier) accepted this text."""
        return self.status in ("sent", "duplicate")


@dataclass(frozen=True)
class _Decision:
    action: Literal["send", "blocked", "duplicate"]
    number: str | None = None
    from_number: str | None = None
    reason: BlockReason | None = None
    retry_at: dt.datetime | None = None
    sid: str | None = None
    message_id: str | None = None


def send_key(purpose: str, source: str, to: str) -> str:
    return hashlib.sha256(f"{purpose}|{source}|{to}".encode()).hexdigest()[:40]


def blocked_id(key: str) -> str:
    return f"blocked_{key}"


def send_sms(ports: Ports, tenant: Any, to: str, body: str, *, purpose: Purpose, source: str,
             now: dt.datetime | None = None, from_number: str | None = None) -> SendResult:
    """Send one text if the rules allow it (module docstring); otherwise record why not.

    ``tenant`` is a tenant id or a ``TenantScope``; ``source`` names what the text is about
    (the inbound message sid for replies, the call id for follow-ups ...): with ``purpose`` and
    ``to`` it is the idempotency key."""

    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if not isinstance(source, str) or not _SOURCE.match(source):
        raise ValueError("source must be an id (letters, digits, _ . : -)")
    if not body or not body.strip():
        raise ValueError("empty text")
    scope = tenant if isinstance(tenant, TenantScope) else TenantScope(ports.store(), tenant)
    now = (now or ports.clock().now()).astimezone(dt.timezone.utc)
    raw_to = (to or "").strip()[:40]
    number = try_normalize_us(raw_to)
    key = send_key(purpose, source, number or raw_to)

    decision = scope.transaction(lambda tx: _decide(tx, scope.tenant_id, key, raw_to, number, body, purpose,
                                                    source, now, from_number))
    if decision.action == "duplicate":
        return SendResult("duplicate", decision.message_id or "", sid=decision.sid)
    if decision.action == "blocked":
        _log_refusal(scope.tenant_id, decision.reason, purpose, key)
        return SendResult("blocked", blocked_id(key), reason=decision.reason, retry_at=decision.retry_at)
    return _send(ports, scope, key, decision, body, purpose, source, now)


# --- deciding (one transaction: reads, then writes) --------------------------------------------

def _decide(tx: Any, tenant_id: str, key: str, raw_to: str, number: str | None, body: str, purpose: str,
            source: str, now: dt.datetime, from_number: str | None) -> _Decision:
    tenant = tx.get("")
    if tenant is None:

        raise UnknownTenant(tenant_id)
    reservation = tx.get(f"sms_sends/{key}")
    consent_doc = tx.get(consent.state_path(number)) if number else None
    inbound = tx.get(f"messages/{source}") if purpose == "reply" else None

    if reservation is not None:
        if reservation.get("state") == "sent":
            return _Decision("duplicate", sid=reservation.get("sid"), message_id=reservation.get("sid"))
        lease = reservation.get("lease_until")
        if reservation.get("state") == "sending" and lease is not None and lease > now:
            raise InProgress(f"sms send {key[:12]}")

    immediate_reply = bool(
        inbound and inbound.get("direction") == "inbound" and number and inbound.get("from") == number
        and inbound.get("received_at") is not None and now - inbound["received_at"] <= REPLY_WINDOW)
    owed = (inbound or {}).get("reply") or {}
    compliance_reply = (immediate_reply and (inbound or {}).get("intent") in COMPLIANCE_INTENTS
                        and owed.get("state") == "pending" and owed.get("body") == body)
    numbers = tenant.get("numbers") or []
    if immediate_reply:
        sender = inbound.get("to") if inbound else None  # answer from the number that was texted
    elif from_number:
        sender = try_normalize_us(from_number)
    else:
        sender = numbers[0] if numbers else None

    reason: BlockReason | None = None
    retry_at: dt.datetime | None = None
    if number is None:
        reason = BlockReason.invalid_number
    elif sender is None or sender not in numbers or (tenant.get("status") != "active" and not compliance_reply):
        reason = BlockReason.tenant_not_in_service
    elif not compliance_reply:
        state = consent.state_from_doc(consent_doc)
        if state == consent.ConsentState.opted_out:
            reason = BlockReason.opted_out
        elif state != consent.ConsentState.opted_in:
            reason = BlockReason.not_opted_in
        elif not immediate_reply:
            zones = recipient_zones(number, tenant.get("time_zone") or "America/New_York")
            allowed = next_allowed(now, zones)
            if allowed > now:
                reason, retry_at = BlockReason.quiet_hours, allowed

    if reason is not None:
        _write_blocked(tx, key, raw_to=raw_to, number=number, sender=sender, body=body, purpose=purpose,
                       source=source, reason=reason, retry_at=retry_at, now=now, tenant_id=tenant_id)
        return _Decision("blocked", number=number, reason=reason, retry_at=retry_at)
    tx.set(f"sms_sends/{key}", {"state": "sending", "purpose": purpose, "source": source, "at": now,
                                "lease_until": now + LEASE, "expire_at": messages.expire_at(now)})
    return _Decision("send", number=number, from_number=sender)


def _write_blocked(tx: Any, key: str, *, raw_to: str, number: str | None, sender: str | None, body: str,
                   purpose: str, source: str, reason: BlockReason, retry_at: dt.datetime | None, now: dt.datetime,
                   tenant_id: str, error_code: int | None = None) -> None:
    tx.set(f"messages/{blocked_id(key)}", {
        "id": blocked_id(key), "tenant_id": tenant_id, "direction": "outbound", "from": sender,
        "to": number or raw_to, "body": body, "purpose": purpose, "source": source, "status": "blocked",
        "status_rank": messages.rank("blocked"), "blocked_reason": reason.value, "retry_at": retry_at,
        "error_code": str(error_code) if error_code else None, "created_at": now, "updated_at": now,
        "expire_at": messages.expire_at(now), "send_key": key,
    })
    tx.set(f"sms_sends/{key}", {"state": "blocked", "reason": reason.value, "purpose": purpose, "source": source,
                                "at": now, "expire_at": messages.expire_at(now)})


def _log_refusal(tenant_id: str, reason: BlockReason | None, purpose: str, key: str) -> None:
    log.info("sms refused by the send gate", extra={
        "tenant_id": tenant_id, "reason": reason.value if reason else None, "purpose": purpose,
        "send_key": key[:12]})


# --- sending ------------------------------------------------------------------------------------

def _send(ports: Ports, scope: Any, key: str, decision: _Decision, body: str, purpose: str, source: str,
          now: dt.datetime) -> SendResult:
    from twilio.base.exceptions import TwilioRestException

    from shared.providers import twilio as provider

    settings = ports.settings
    try:
        created = provider.client(settings).messages.create(
            to=decision.number, from_=decision.from_number, body=body,
            status_callback=settings.function_url("sms_status"))
    except Exception as exc:
        if provider.unavailable(exc):
            _release(scope, key)
            status = exc.status if isinstance(exc, TwilioRestException) else type(exc).__name__
            log.warning("twilio unavailable, text not sent", extra={"tenant_id": scope.tenant_id, "answer": status,
                                                                    "send_key": key[:12]})
            raise provider.TwilioUnavailable(f"twilio: {status}") from None
        if not isinstance(exc, TwilioRestException):
            _release(scope, key)
            raise
        return _rejected(scope, key, decision, exc, body, purpose, source, now)

    sid = str(created.sid)
    status = str(created.status or "queued")

    def record(tx: Any) -> None:
        current = tx.get(f"messages/{sid}")  # a status callback may have arrived first
        doc = {
            "id": sid, "sid": sid, "tenant_id": scope.tenant_id, "direction": "outbound",
            "from": decision.from_number, "to": decision.number, "body": body, "purpose": purpose, "source": source,
            "num_segments": _int(getattr(created, "num_segments", None)), "created_at": now,
            "expire_at": messages.expire_at(now), "send_key": key,
            **messages.apply_status(current, status, at=now),
        }
        tx.set(f"messages/{sid}", doc, merge=True)
        tx.set(f"sms_sends/{key}", {"state": "sent", "sid": sid, "purpose": purpose, "source": source, "at": now,
                                    "expire_at": messages.expire_at(now)})

    scope.transaction(record)
    log.info("sms sent", extra={"tenant_id": scope.tenant_id, "message_sid": sid, "purpose": purpose})
    return SendResult("sent", sid, sid=sid)


def _rejected(scope: Any, key: str, decision: _Decision, exc: Any, body: str, purpose: str, source: str,
              now: dt.datetime) -> SendResult:
    code = int(exc.code) if isinstance(exc.code, int) or str(exc.code or "").isdigit() else None
    if code == CARRIER_OPT_OUT_CODE:
        reason = BlockReason.opted_out
    elif code in INVALID_NUMBER_CODES:
        reason = BlockReason.invalid_number
    else:
        reason = BlockReason.provider_rejected
    number = decision.number
    assert number is not None

    def write(tx: Any) -> consent.RecordResult | None:
        recorded = None
        already_out = consent.state_from_doc(tx.get(consent.state_path(number))) == consent.ConsentState.opted_out
        if reason == BlockReason.opted_out and not already_out:
            recorded = consent.record_in(tx, scope.tenant_id, number, action="opt_out", method="carrier", disclosure="",
                              source_type="carrier", source_id=f"twilio-{CARRIER_OPT_OUT_CODE}-{key[:24]}", now=now,
                              keyword=f"TWILIO_{CARRIER_OPT_OUT_CODE}")
        _write_blocked(tx, key, raw_to=number, number=number, sender=decision.from_number, body=body, purpose=purpose,
                       source=source, reason=reason, retry_at=None, now=now, tenant_id=scope.tenant_id, error_code=code)
        return recorded

    consent.log_recorded(scope.transaction(write))
    log.info("sms refused by twilio", extra={"tenant_id": scope.tenant_id, "reason": reason.value,
                                              "twilio_code": code, "purpose": purpose, "send_key": key[:12]})
    return SendResult("blocked", blocked_id(key), reason=reason, error_code=code)


def _release(scope: Any, key: str) -> None:
    """Give the reservation back so a retry can send; a store failure here only delays the
    retry until the lease runs out."""

    try:
        scope.delete(f"sms_sends/{key}")
    except StoreError:
        pass


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
