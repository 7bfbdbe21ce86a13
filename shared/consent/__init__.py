"""The SMS consent ledger: per tenant and phone number, a current state and an append-only,
hash-chained history. The privacy policy's promise about text consent, as code.

Layout (under the tenant, so isolation is structural):

* ``tenants/{t}/consent/{e164}`` -- the state: ``opted_in`` / ``opted_out`` (absent document =
  ``never_asked``), the sequence number and hash of the newest event (``head_hash``).
* ``tenants/{t}/consent/{e164}/events/{seq:08d}`` -- one document per event: number, time,
  action (opt_in / opt_out), method (``verbal`` on a call, ``keyword`` by text, ``web``, or
  ``carrier`` when Twilio reports the number unsubscribed, error 21610), the exact disclosure
  text the person was given (the words the agent spoke, the confirmation text we sent), the
  source (message sid, call id ...), ``prev_hash`` and ``hash`` = sha256 over the canonical JSON
  of the event including ``prev_hash`` (see :func:`event_hash`). The first event links to
  ``GENESIS`` (64 zeros).
* ``tenants/{t}/consent/{e164}/sources/{key}`` -- which (action, source) pairs are recorded, so
  recording the same source twice (a webhook retried, a tool call repeated) is one event.

Rules this module keeps:

* **One transaction**: state and history change together (read the state, append event seq+1,
  write the state with the new head hash). :func:`record_in` takes a transaction so a caller
  can commit the consent change together with its own writes (``sms_inbound`` stores the
  message in the same transaction).
* **Idempotent per source**: the same ``(action, source_type, source_id)`` recorded again returns
  the existing event and writes nothing.
* **Tamper evidence**: :func:`verify_chain` recomputes every hash and link and reports the first
  broken one. Each append also logs the tenant id, sequence number and new head hash (never the
  number): Cloud Logging is a second, independent copy of the chain heads, so a rewritten
  chain (all hashes recomputed by someone with write access to the database) no longer matches
  what was logged at the time.
* **Retention**: every consent document carries ``expire_at`` = 5 years after the number's
  latest event; each append moves the whole chain's ``expire_at`` forward (``expire_at`` is
  retention metadata, deliberately outside the hash), so the chain expires as a unit and never
  loses its first links while it is still in use. Consent records are **kept when the rest of
  a caller's data is deleted** (privacy deletion, retention sweeps of calls and messages): they
  are the suppression record that proves an opt-out is honoured, and they hold no message
  content -- only the number, times, methods, our own disclosure texts and provider ids.
  Deletion code must skip ``consent/`` (the retention sweep removes it only after
  ``expire_at``).
* Numbers are E.164. Any valid number may be recorded (a STOP from abroad is still a STOP);
  only US numbers can be texted (the send gate refuses others).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from shared.logging import get_logger
from shared.models.base import Model

if TYPE_CHECKING:
    from shared.tenants import TenantScope

log = get_logger("z3.consent")

RETENTION = dt.timedelta(days=5 * 365 + 1)  # 5 years, leap day included
GENESIS = "0" * 64
HASH_VERSION = 1
# Firestore allows 500 writes per transaction; an append writes 3 documents plus the expiry of
# earlier events. Chains longer than this (hundreds of STOP/START toggles) extend the expiry of
# their newest events only and say so in the log.
MAX_EXPIRY_BUMPS = 450

Action = Literal["opt_in", "opt_out"]
Method = Literal["verbal", "keyword", "web", "carrier"]
SourceType = Literal["message", "call", "web", "carrier"]


class ConsentState(str, Enum):
    opted_in = "opted_in"
    opted_out = "opted_out"
    never_asked = "never_asked"


class InvalidNumber(ValueError):
    """Not a phone number the ledger can key on."""


class ConsentEvent(Model):
    # The disclosure is evidence: kept byte for byte (no whitespace stripping).
    model_config = ConfigDict(extra="ignore", validate_assignment=True, str_strip_whitespace=False)

    seq: int = Field(ge=1)
    tenant_id: str
    number: str
    action: Action
    method: Method
    at: dt.datetime
    disclosure: str = ""
    source_type: SourceType
    source_id: str = Field(min_length=1, max_length=200)
    keyword: str | None = None  # "STOP", "PLAIN_WORDS", "OPT_OUT_TYPE:STOP", "TWILIO_21610" ...
    prev_hash: str
    hash: str
    expire_at: dt.datetime | None = None

    def hashed_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(mode="python").items() if k not in ("hash", "expire_at")}


class ConsentRecord(Model):
    """The state document."""

    tenant_id: str
    number: str
    state: ConsentState
    seq: int
    head_hash: str
    last_action: Action
    last_method: Method
    last_event_at: dt.datetime
    updated_at: dt.datetime
    expire_at: dt.datetime


@dataclass(frozen=True)
class RecordResult:
    event: ConsentEvent
    created: bool  # False: this source was recorded before (nothing written)
    state: ConsentState


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    length: int
    state: ConsentState
    broken_at: int | None = None  # the seq of the first broken link (length + 1: the state doc)
    reason: str = ""


# --- numbers and paths ------------------------------------------------------------------------

def e164(raw: str | None) -> str:
    """Any valid phone number as E.164 (US numbers without ``+1`` are accepted)."""
    import phonenumbers

    if not raw or not isinstance(raw, str) or len(raw) > 40:
        raise InvalidNumber("not a phone number")
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise InvalidNumber("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_e164(raw: str | None) -> str | None:
    try:
        return e164(raw)
    except InvalidNumber:
        return None


def state_path(number: str) -> str:
    return f"consent/{number}"


def event_path(number: str, seq: int) -> str:
    return f"consent/{number}/events/{seq:08d}"


def source_key(action: str, source_type: str, source_id: str) -> str:
    return hashlib.sha256(f"{action}|{source_type}|{source_id}".encode()).hexdigest()[:40]


def source_path(number: str, key: str) -> str:
    return f"consent/{number}/sources/{key}"


# --- hashing ----------------------------------------------------------------------------------

def _canonical_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Enum):
        return value.value
    return value


def canonical_json(fields: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8, datetimes as fixed-width UTC ISO strings (microseconds)."""
    data = {"hash_version": HASH_VERSION, **{k: _canonical_value(v) for k, v in fields.items()}}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(fields: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of an event's fields, ``prev_hash`` included and ``hash``
    and ``expire_at`` excluded."""
    fields = {k: v for k, v in fields.items() if k not in ("hash", "expire_at")}
    return hashlib.sha256(canonical_json(fields)).hexdigest()


# --- writing ----------------------------------------------------------------------------------

def _micro(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return now.astimezone(dt.timezone.utc)


def record_in(tx: Any, tenant_id: str, number: str, *, action: Action, method: Method, disclosure: str,
              source_type: SourceType, source_id: str, now: dt.datetime, keyword: str | None = None) -> RecordResult:
    """Append one consent event inside a tenant-scoped transaction (``TenantScope.transaction``).

    Reads first (state, source marker, and the earlier event on a duplicate), then writes, as
    Firestore requires: call it before any write of the same transaction. ``number`` must be
    E.164 already."""
    from shared.ports import Query

    now = _micro(now)
    key = source_key(action, source_type, source_id)
    state_doc = tx.get(state_path(number))
    marker = tx.get(source_path(number, key))
    if marker is not None:
        recorded = tx.get(event_path(number, int(marker["seq"])))
        if recorded is not None:
            state = ConsentState(state_doc["state"]) if state_doc else ConsentState.never_asked
            return RecordResult(ConsentEvent.from_doc(recorded), False, state)
    # The events to extend: read, not assumed, so a chain with a missing event (tampering) can
    # still record an opt-out -- an update of a missing document would fail the transaction.
    earlier = tx.query(Query(f"tenants/{tenant_id}/consent/{number}/events")) if state_doc else []
    seq = int(state_doc["seq"]) + 1 if state_doc else 1
    prev_hash = state_doc["head_hash"] if state_doc else GENESIS
    expire_at = now + RETENTION
    fields = {"seq": seq, "tenant_id": tenant_id, "number": number, "action": action, "method": method,
              "at": now, "disclosure": disclosure or "", "source_type": source_type, "source_id": source_id,
              "keyword": keyword, "prev_hash": prev_hash}
    event = ConsentEvent(**fields, hash="", expire_at=expire_at)
    event.hash = event_hash(event.hashed_fields())
    state = ConsentState.opted_in if action == "opt_in" else ConsentState.opted_out
    record = ConsentRecord(tenant_id=tenant_id, number=number, state=state, seq=seq, head_hash=event.hash,
                           last_action=action, last_method=method, last_event_at=now, updated_at=now,
                           expire_at=expire_at)
    tx.create(event_path(number, seq), event.to_doc())
    tx.set(state_path(number), record.to_doc())
    tx.set(source_path(number, key), {"seq": seq, "at": now, "expire_at": expire_at})
    for doc in sorted(earlier, key=lambda d: d.id)[-MAX_EXPIRY_BUMPS:]:
        tx.update(f"consent/{number}/events/{doc.id}", {"expire_at": expire_at})
    if len(earlier) > MAX_EXPIRY_BUMPS:
        log.warning("consent chain too long to extend every event's expiry in one transaction",
                    extra={"tenant_id": tenant_id, "seq": seq})
    return RecordResult(event, True, state)


def log_recorded(result: RecordResult | None) -> None:
    """The log anchor of a new event (tenant, seq, action, method, head hash; never the
    number). :func:`record` calls it; callers of :func:`record_in` call it after their commit."""
    if result is not None and result.created:
        log.info("consent event recorded", extra={
            "tenant_id": result.event.tenant_id, "seq": result.event.seq, "action": result.event.action,
            "method": result.event.method, "head_hash": result.event.hash})


def record(scope: "TenantScope", raw_number: str, *, action: Action, method: Method, disclosure: str,
           source_type: SourceType, source_id: str, now: dt.datetime, keyword: str | None = None) -> RecordResult:
    """Append one event in its own transaction (see :func:`record_in`)."""
    number = e164(raw_number)
    result = scope.transaction(lambda tx: record_in(
        tx, scope.tenant_id, number, action=action, method=method, disclosure=disclosure, source_type=source_type,
        source_id=source_id, now=now, keyword=keyword))
    log_recorded(result)
    return result


def record_sms_consent(scope: "TenantScope", number: str, *, method: Method = "verbal", call_id: str,
                       disclosure: str, now: dt.datetime) -> RecordResult:
    """The caller said yes to texts during a call: the voice agent's tools call this.

    ``disclosure`` is exactly what the agent said (see :func:`shared.sms.texts.verbal_disclosure`);
    ``call_id`` is the call it was said on. Idempotent per call: the tool retried is one event."""
    if not disclosure or not disclosure.strip():
        raise ValueError("consent needs the disclosure the caller was given")
    return record(scope, number, action="opt_in", method=method, disclosure=disclosure,
                  source_type="call" if method == "verbal" else method, source_id=call_id, now=now)


def record_sms_revocation(scope: "TenantScope", number: str, *, call_id: str, now: dt.datetime,
                          method: Method = "verbal", disclosure: str = "") -> RecordResult:
    """The caller asked not to be texted during a call (any reasonable means revokes consent)."""
    return record(scope, number, action="opt_out", method=method, disclosure=disclosure,
                  source_type="call" if method == "verbal" else method, source_id=call_id, now=now)


# --- reading ----------------------------------------------------------------------------------

def get_record(scope: "TenantScope", raw_number: str) -> ConsentRecord | None:
    data = scope.get(state_path(e164(raw_number)))
    return ConsentRecord.from_doc(data) if data else None


def state_from_doc(data: dict[str, Any] | None) -> ConsentState:
    return ConsentState(data["state"]) if data else ConsentState.never_asked


def current_state(scope: "TenantScope", raw_number: str) -> ConsentState:
    return state_from_doc(scope.get(state_path(e164(raw_number))))


def history(scope: "TenantScope", raw_number: str) -> list[ConsentEvent]:
    """Every event of the number, oldest first."""
    number = e164(raw_number)
    query = scope.collection(f"consent/{number}/events").order_by("seq")
    return [ConsentEvent.from_doc(doc.data) for doc in scope.store.stream(scope.own(query))]


def verify_chain(scope: "TenantScope", raw_number: str) -> ChainReport:
    """Walk the chain from the first event: contiguous sequence numbers, each ``prev_hash`` the
    hash of the event before, each ``hash`` recomputed from the event's fields, and the state
    document pointing at the last event with the state its action implies. Reports the first
    broken link (``broken_at`` = its seq; ``length + 1`` when only the state document disagrees)."""
    number = e164(raw_number)
    state_doc = scope.get(state_path(number))
    query = scope.collection(f"consent/{number}/events").order_by("seq")
    prev_hash = GENESIS
    expected_seq = 1
    last: dict[str, Any] | None = None
    for doc in scope.store.stream(scope.own(query)):
        data = doc.data
        seq = data.get("seq")
        if doc.id != f"{expected_seq:08d}" or seq != expected_seq:
            return ChainReport(False, expected_seq - 1, state_from_doc(state_doc), expected_seq,
                               f"event {expected_seq} is missing (found {doc.id})")
        if data.get("prev_hash") != prev_hash:
            return ChainReport(False, expected_seq - 1, state_from_doc(state_doc), expected_seq,
                               f"event {expected_seq} does not link to event {expected_seq - 1}")
        try:
            recomputed = event_hash(ConsentEvent.from_doc(data).hashed_fields())
        except (ValueError, TypeError):
            recomputed = ""
        if recomputed != data.get("hash") or data.get("tenant_id") != scope.tenant_id or data.get("number") != number:
            return ChainReport(False, expected_seq - 1, state_from_doc(state_doc), expected_seq,
                               f"event {expected_seq} was altered (hash mismatch)")
        prev_hash = data["hash"]
        last = data
        expected_seq += 1
    length = expected_seq - 1
    if last is None:
        if state_doc is not None:
            return ChainReport(False, 0, state_from_doc(state_doc), 1, "state exists but the history is empty")
        return ChainReport(True, 0, ConsentState.never_asked)
    expected_state = ConsentState.opted_in if last["action"] == "opt_in" else ConsentState.opted_out
    if state_doc is None:
        return ChainReport(False, length, ConsentState.never_asked, length + 1, "state document is missing")
    if state_doc.get("head_hash") != prev_hash or state_doc.get("seq") != length:
        return ChainReport(False, length, state_from_doc(state_doc), length + 1,
                           "state does not point at the last event (history truncated or state altered)")
    if state_doc.get("state") != expected_state.value:
        return ChainReport(False, length, state_from_doc(state_doc), length + 1,
                           "state disagrees with the last event")
    return ChainReport(True, length, expected_state)
