"""Message documents (``tenants/{t}/messages/{id}``) and the delivery-status rules. Pure.

One document per text, inbound or outbound: sender, recipient, body, media URLs, time, status,
``expire_at`` one year out (SMS logs are kept 1 year). Inbound and sent messages are keyed by
Twilio's sid; a text the send gate refused has no sid and is keyed ``blocked_{key}``.

Delivery status never moves backwards. Each status has a rank; a callback applies only when it
outranks what is stored, so the final state is the highest-ranked status ever reported,
whatever order the callbacks arrive in (duplicates change nothing). Terminal states outrank
every transient one. Between terminal states the order is a deliberate tie-break: a message
reported ``delivered`` (or ``read``) was delivered, whatever a late ``undelivered`` says.
Statuses we do not know are recorded in the history but never become the status.
"""

from __future__ import annotations

import re

import datetime as dt
from typing import Any

RETENTION = dt.timedelta(days=365)

STATUS_RANK: dict[str, int] = {
    "blocked": 0,  # refused by our gate, never sent to Twilio
    "accepted": 10, "scheduled": 11, "queued": 12, "sending": 20, "receiving": 20,
    "sent": 30,
    # terminal
    "canceled": 50, "failed": 60, "undelivered": 70, "partially_delivered": 75, "received": 80,
    "delivered": 80, "read": 90,
}
TERMINAL = frozenset({"canceled", "failed", "undelivered", "partially_delivered", "received", "delivered", "read"})


def rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", -1)


def expire_at(now: dt.datetime) -> dt.datetime:
    return now + RETENTION


def apply_status(current: dict[str, Any] | None, status: str, *, at: dt.datetime,
                 error_code: str | int | None = None) -> dict[str, Any]:
    """The fields to merge into a message document for one status report.

    Commutative and idempotent: ``status`` = the highest-ranked status seen; ``statuses`` maps
    every status seen to when it was first seen and its error code; ``error_code`` is the code
    reported with the winning status (or with the highest-ranked status that carried one)."""
    current = current or {}
    statuses: dict[str, Any] = dict(current.get("statuses") or {})
    code = str(error_code) if error_code not in (None, "") else None
    seen = statuses.get(status) or {}
    first = min((t for t in (seen.get("at"), at) if t is not None))
    codes_seen = [c for c in (seen.get("error_code"), code) if c]
    # first time seen, and the largest code reported with it: both order-independent
    statuses[status] = {"at": first, "error_code": max(codes_seen, key=lambda c: (len(c), c)) if codes_seen else None}
    best = max((s for s in statuses if s in STATUS_RANK), key=lambda s: (rank(s), s), default=current.get("status"))
    codes = [(rank(s), statuses[s]["error_code"]) for s in statuses if statuses[s].get("error_code")]
    winning_code = statuses.get(best, {}).get("error_code") if best else None
    if winning_code is None and codes:
        winning_code = max(codes)[1]
    return {"statuses": statuses, "status": best, "status_rank": rank(best), "terminal": best in TERMINAL,
            "error_code": winning_code, "updated_at": max(at, current.get("updated_at") or at)}


_MESSAGE_SID = re.compile(r"^(?:SM|MM)[0-9a-fA-F]{32}$")


def check_message_sid(value: str) -> str:
    """Twilio's message sid (``SM``/``MM`` + 32 hex): what inbound texts and status callbacks carry."""
    if not _MESSAGE_SID.match(value):
        raise ValueError("not a Twilio message sid")
    return value
