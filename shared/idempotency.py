"""Process a provider's event once, even though every provider delivers at least once.

The record lives at ``webhook_events/{provider}:{event_id}`` (global: it holds ids only) and
expires after ``keep`` (Firestore TTL on ``expire_at`` is the backstop).

Two ways to use it:

* :func:`claim_in` inside the transaction that applies the event's effect: the effect and the
  record commit together, so a duplicate is a no-op and a crash loses nothing (the retry finds
  no record and does the work). Prefer this.
* :func:`run_once` around work that is not one transaction (it calls a provider, say). The
  record is created as ``processing`` with a lease; the handler runs; the record becomes
  ``done``. If the handler raises, the record is removed so the provider's retry does the work
  again. A duplicate that arrives while the first is still running (within the lease) raises
  :class:`InProgress`, which a webhook answers with 409/503 so the provider retries later.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable, TypeVar

from shared.ports import Clock, DocumentStore, SystemClock, Transaction

T = TypeVar("T")
KEEP = dt.timedelta(days=30)  # longer than any provider retries (Stripe: 3 days)
LEASE = dt.timedelta(minutes=2)
_SAFE = re.compile(r"[^A-Za-z0-9_.:\-]")


class InProgress(Exception):
    """The same event is being processed right now by another delivery."""


def key_path(provider: str, event_id: str) -> str:
    if not event_id:
        raise ValueError("event id is empty")
    key = _SAFE.sub("_", f"{provider}:{event_id}")[:400]
    return f"webhook_events/{key}"


def claim_in(tx: Transaction, provider: str, event_id: str, *, now: dt.datetime, keep: dt.timedelta = KEEP) -> bool:
    """Inside a transaction: True the first time this event is seen (and records it), False for
    a duplicate. Call before any write of the transaction."""
    path = key_path(provider, event_id)
    if tx.get(path) is not None:
        return False
    tx.set(path, {"state": "done", "at": now, "expire_at": now + keep})
    return True


def run_once(store: DocumentStore, provider: str, event_id: str, handler: Callable[[], T], *,
             clock: Clock | None = None, keep: dt.timedelta = KEEP, lease: dt.timedelta = LEASE) -> tuple[bool, T | None]:
    """Run ``handler`` for the first delivery of an event. Returns ``(ran, result)``."""
    clock = clock or SystemClock()
    path = key_path(provider, event_id)
    now = clock.now()

    def acquire(tx: Transaction) -> bool:
        record = tx.get(path)
        if record is not None:
            if record.get("state") == "done":
                return False
            if record.get("lease_until") and record["lease_until"] > now:
                raise InProgress(path)
        tx.set(path, {"state": "processing", "at": now, "lease_until": now + lease, "expire_at": now + keep})
        return True

    if not store.transaction(acquire):
        return False, None
    try:
        result = handler()
    except BaseException:
        store.delete(path)
        raise
    store.set(path, {"state": "done", "at": clock.now(), "expire_at": clock.now() + keep})
    return True, result


def seen(store: DocumentStore, provider: str, event_id: str) -> bool:
    record = store.get(key_path(provider, event_id))
    return record is not None and record.get("state") == "done"
