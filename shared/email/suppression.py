"""The email suppression list: addresses the mailer never sends to.

``email_suppressions/{sha256(lower-cased address)}`` is a global document (one address, every
tenant: a hard bounce or a spam complaint is about the mailbox, not the business) holding the
reason, the time and ``expire_at`` -- never the address itself.

How long an entry holds (our choice; the issue is silent):

* ``bounced`` (a permanent/hard bounce) and ``provider_suppressed`` (Resend refused the address
  from its own list): 1 year, like the email logs. Mailboxes come back (a typo fixed, a domain
  renewed) and an operator can lift an entry earlier (:func:`lift`).
* ``complained`` (the recipient marked our email as spam): 5 years, like the SMS consent
  records: it is the recipient's "do not email me", and we keep the evidence as long.

A newer entry never shortens an older one (a bounce after a complaint keeps the 5 years).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from shared.email.addresses import address_hash
from shared.ports import DocumentStore, Transaction

COLLECTION = "email_suppressions"


class SuppressionReason(str, Enum):
    bounced = "bounced"
    complained = "complained"
    provider_suppressed = "provider_suppressed"


KEEP: dict[SuppressionReason, dt.timedelta] = {
    SuppressionReason.bounced: dt.timedelta(days=365),
    SuppressionReason.complained: dt.timedelta(days=5 * 365),
    SuppressionReason.provider_suppressed: dt.timedelta(days=365),
}


@dataclass(frozen=True)
class Suppression:
    reason: str
    at: dt.datetime
    expire_at: dt.datetime


def path(address: str) -> str:
    return f"{COLLECTION}/{address_hash(address)}"


def active(record: dict[str, Any] | None, now: dt.datetime) -> Suppression | None:
    """The suppression ``record`` states, if it still holds at ``now``."""
    if not record:
        return None
    expire_at = record.get("expire_at")
    if isinstance(expire_at, dt.datetime) and expire_at <= now:
        return None
    return Suppression(str(record.get("reason", "")), record.get("at") or now, expire_at or now)


def check(store: DocumentStore, address: str, now: dt.datetime) -> Suppression | None:
    return active(store.get(path(address)), now)


def check_in(tx: Transaction, address: str, now: dt.datetime) -> Suppression | None:
    return active(tx.get(path(address)), now)


def entry(current: dict[str, Any] | None, reason: SuppressionReason, now: dt.datetime,
          *, source: str = "") -> dict[str, Any] | None:
    """The document to write for a new suppression over ``current``, or None to keep ``current``
    (it already holds as long or longer)."""
    expire_at = now + KEEP[reason]
    if current and isinstance(current.get("expire_at"), dt.datetime) and current["expire_at"] >= expire_at:
        return None
    return {"reason": reason.value, "at": now, "expire_at": expire_at, "source": source}


def suppress_in(tx: Transaction, address: str, reason: SuppressionReason, now: dt.datetime,
                *, source: str = "") -> None:
    """Inside a transaction, before any write of it (it reads): put ``address`` on the list."""
    doc = entry(tx.get(path(address)), reason, now, source=source)
    if doc is not None:
        tx.set(path(address), doc)


def suppress(store: DocumentStore, address: str, reason: SuppressionReason, now: dt.datetime,
             *, source: str = "") -> None:
    store.transaction(lambda tx: suppress_in(tx, address, reason, now, source=source))


def lift(store: DocumentStore, address: str) -> bool:
    """An operator lifts a suppression (the owner fixed their mailbox). True if there was one."""
    doc_path = path(address)
    existed = store.get(doc_path) is not None
    store.delete(doc_path)
    return existed
