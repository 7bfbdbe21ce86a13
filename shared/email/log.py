"""Email delivery logs: ``tenants/{t}/emails/{email_id}``, one per notification and recipient.

A log holds what a business needs to see that its email went out and what became of it -- the
template, the recipient (hash and masked form), the status, Resend's email id, the time of each
event -- and never the message (no subject, no body, no context). It expires a year after it
was created (``expire_at``; the retention sweep deletes it, Firestore TTL is the backstop).

``email_id`` is derived from the notification's ``dedup_key`` and the recipient, so a
redelivered task finds the log of its first delivery: that log *is* the "already sent" record.

Statuses only move forward (:data:`RANK`): Resend's webhooks arrive duplicated and out of
order, and ``delivered`` must never be overwritten by a late ``sent``. Each event's time is
kept in ``events`` even when it does not move the status (an ``opened`` after ``clicked``).

``email_messages/{resend_id}`` (global, ids only) maps Resend's id back to the tenant and log,
for webhooks that arrive without our tags.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.email.addresses import address_hash, digest, mask

KEEP = dt.timedelta(days=365)
INDEX = "email_messages"

# Local states: sending (claimed, Resend not yet confirmed), blocked (never sent: suppressed or
# not opted in), failed (Resend refused it). The rest are Resend's webhook events.
RANK: dict[str, int] = {
    "blocked": 0,
    "sending": 0,
    "sent": 10,
    "delivery_delayed": 20,
    "delivered": 30,
    "bounced": 40,
    "failed": 40,
    "suppressed": 40,
    "opened": 50,
    "clicked": 60,
    "complained": 70,
}
FINAL_LOCAL = frozenset({"blocked", "failed"})  # decided here, nothing was sent


def email_id(dedup_key: str, address: str) -> str:
    return "em_" + digest(dedup_key, address_hash(address))[:32]


def rel_path(log_id: str) -> str:
    return f"emails/{log_id}"


def index_path(resend_id: str) -> str:
    return f"{INDEX}/{resend_id}"


def new_log(*, log_id: str, template: str, category: str, dedup_key: str, address: str,
            status: str, now: dt.datetime, reason: str | None = None) -> dict[str, Any]:
    return {
        "id": log_id, "template": template, "category": category, "dedup_key": dedup_key[:300],
        "recipient_hash": address_hash(address), "recipient": mask(address),
        "status": status, "reason": reason, "resend_id": None,
        "created_at": now, "prepared_at": now, "sent_at": None, "updated_at": now,
        "events": {}, "expire_at": now + KEEP,
    }


def advances(current: str | None, new: str) -> bool:
    """True when ``new`` is later than ``current`` in the life of an email."""
    return RANK.get(new, -1) > RANK.get(current or "", -1)
