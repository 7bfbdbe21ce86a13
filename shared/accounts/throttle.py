"""Sign-in throttling, per account and per client IP, and the temporary account lock.

Counters live in ``signin_throttle/{sha256(kind:value)}`` (global, no address: a hash of the
email key or of the IP). They are kept for unknown emails exactly as for real accounts, so the
answers (and their timing) never tell whether an account exists.

* per account: from the 3rd failure each attempt must wait 1, 2, 4 ... seconds (at most 60);
  the 10th failure locks the account for an hour, and its owner is emailed a link that lifts
  the lock (``shared.accounts.signin``). A successful sign-in clears the account's counter.
* per IP: from the 10th failure, 1, 2, 4 ... seconds (at most 5 minutes); a success does not
  clear it (one good account must not launder a spray of guesses).
* counters forget failures an hour after the last one (``expire_at``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from shared.accounts.errors import Throttled
from shared.ports import DocumentStore

WINDOW = dt.timedelta(hours=1)
LOCK_FOR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    kind: str
    free: int  # failures allowed without delay
    max_delay: int  # seconds
    lock_after: int | None = None


ACCOUNT = Rule("account", free=2, max_delay=60, lock_after=10)
IP = Rule("ip", free=9, max_delay=300)

LOCKED_MESSAGE = ("Too many failed sign-ins: this account is locked for an hour. "
                  "If it is yours, the email we sent lets you unlock it now.")


def _path(rule: Rule, value: str) -> str:
    return f"signin_throttle/{hashlib.sha256(f'{rule.kind}:{value}'.encode()).hexdigest()}"


def _delay(rule: Rule, failures: int) -> int:
    if failures <= rule.free:
        return 0
    return min(2 ** (failures - rule.free - 1), rule.max_delay)


def check(store: DocumentStore, rule: Rule, value: str, now: dt.datetime) -> None:
    """:class:`Throttled` while the account is locked or the next attempt is not yet due."""
    if not value:
        return
    data = store.get(_path(rule, value))
    if not data or data["expire_at"] <= now:
        return
    locked_until = data.get("locked_until")
    if locked_until and locked_until > now:
        raise Throttled(LOCKED_MESSAGE, int((locked_until - now).total_seconds()))
    due = data.get("next_allowed_at")
    if due and due > now:
        wait = math.ceil((due - now).total_seconds())
        raise Throttled(f"Too many failed sign-ins. Wait {wait} seconds and try again.", wait)


def failed(store: DocumentStore, rule: Rule, value: str, now: dt.datetime) -> bool:
    """Count one failure; True when this failure locked the account."""
    if not value:
        return False
    path = _path(rule, value)

    def run(tx) -> bool:
        data = tx.get(path)
        if not data or data["expire_at"] <= now:
            data = {"failures": 0}
        failures = data["failures"] + 1
        locks = rule.lock_after is not None and failures >= rule.lock_after and not (
            data.get("locked_until") and data["locked_until"] > now)
        update = {"failures": failures, "last_failure_at": now,
                  "next_allowed_at": now + dt.timedelta(seconds=_delay(rule, failures)),
                  "locked_until": now + LOCK_FOR if locks else data.get("locked_until"),
                  "expire_at": now + max(WINDOW, LOCK_FOR)}
        tx.set(path, update)
        return locks

    return store.transaction(run)


def clear(store: DocumentStore, rule: Rule, value: str) -> None:
    if value:
        store.delete(_path(rule, value))
