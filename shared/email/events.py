"""Resend's email webhooks (``email_events``): delivery states on the logs, bounces and
complaints on the suppression list.

The signature is checked before this module sees the body (``shared.webhooks.resend``). Then,
per event, **one transaction**:

* the ``svix-id`` is claimed (``webhook_events/resend:{svix-id}``): Svix retries and
  duplicates become no-ops, and a crash half-way loses nothing (the retry finds no claim);
* the email's log is found from the tags we sent (``z3_tenant``, ``z3_email``), or else from
  the global ``email_messages/{resend_id}`` index, and its status moves forward only
  (``shared.email.log.RANK``); the event's time is kept under ``events.<status>_at``;
* a hard bounce (``bounce.type == "Permanent"``), a complaint, or Resend's own suppression puts
  every recipient of the event on our suppression list -- even when the log cannot be found
  (an email we no longer have a log for still names a mailbox we must stop sending to).
  Soft bounces (``Transient``, ``Undetermined``) are recorded on the log but suppress nothing.

Event types other than the email delivery events are acknowledged and ignored. A body that is
signed but not an event object answers 400.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

from shared.email import log as email_log
from shared.email import suppression
from shared.email.suppression import SuppressionReason
from shared.errors import InvalidInput
from shared.idempotency import claim_in, key_path
from shared.logging import get_logger
from shared.ports import Ports
from shared.tenants import TenantScope

log = get_logger("z3.email.events")

STATUS_OF: dict[str, str] = {
    "email.sent": "sent",
    "email.delivered": "delivered",
    "email.delivery_delayed": "delivery_delayed",
    "email.bounced": "bounced",
    "email.complained": "complained",
    "email.opened": "opened",
    "email.clicked": "clicked",
    "email.failed": "failed",
    "email.suppressed": "suppressed",
}
PROVIDER = "resend"
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


@dataclass(frozen=True)
class EmailEvent:
    type: str
    created_at: dt.datetime | None
    email_id: str | None
    recipients: tuple[str, ...]
    tags: dict[str, str]
    bounce_type: str | None = None
    bounce_subtype: str | None = None

    @property
    def status(self) -> str | None:
        return STATUS_OF.get(self.type)

    @property
    def suppression_reason(self) -> SuppressionReason | None:
        if self.type == "email.complained":
            return SuppressionReason.complained
        if self.type == "email.suppressed":
            return SuppressionReason.provider_suppressed
        if self.type == "email.bounced" and (self.bounce_type or "").lower() in ("permanent", "hard"):
            return SuppressionReason.bounced
        return None


def parse_event(payload: Any) -> EmailEvent:
    """Resend's webhook body (``{"type", "created_at", "data"}``) as an :class:`EmailEvent`;
    :class:`InvalidInput` when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
        raise InvalidInput("not a Resend event: no type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("not a Resend event: no data")
    kind = payload["type"]
    if kind not in STATUS_OF:
        return EmailEvent(kind, _time(payload.get("created_at")), None, (), {})
    email_id = data.get("email_id")
    if not isinstance(email_id, str) or not email_id:
        raise InvalidInput("email event without email_id")
    to = data.get("to")
    recipients = tuple(a for a in ([to] if isinstance(to, str) else to or []) if isinstance(a, str) and "@" in a)
    bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
    return EmailEvent(
        type=kind,
        created_at=_time(payload.get("created_at")) or _time(data.get("created_at")),
        email_id=email_id,
        recipients=recipients,
        tags=_tags(data.get("tags")),
        bounce_type=str(bounce.get("type")) if bounce.get("type") else None,
        bounce_subtype=str(bounce.get("subType")) if bounce.get("subType") else None,
    )


def apply_event(ports: Ports, svix_id: str, event: EmailEvent) -> str:
    """Apply one verified event. Returns ``ignored``, ``duplicate``, ``applied`` or ``unknown_email``
    (no log found; suppression still applied)."""
    if event.status is None:
        log.info("resend event ignored", extra={"event_type": event.type[:60]})
        return "ignored"
    if not svix_id:
        raise InvalidInput("missing svix-id")
    store = ports.store()
    now = ports.clock().now()
    when = event.created_at or now
    status = event.status
    reason = event.suppression_reason

    def run(tx) -> tuple[str, str | None, str | None]:
        # Reads first (Firestore refuses a read after a write in a transaction).
        if tx.get(key_path(PROVIDER, svix_id)) is not None:
            return "duplicate", None, None
        found, current = None, None
        for tenant_id, path in _candidates(store, tx, event):
            current = tx.get(path)
            if current is not None:
                found = (tenant_id, path)
                break
        listed = {a: tx.get(suppression.path(a)) for a in event.recipients} if reason is not None else {}
        claim_in(tx, PROVIDER, svix_id, now=now)  # its read precedes every write of this transaction
        for address, current_entry in listed.items():
            doc = suppression.entry(current_entry, reason, now, source=event.email_id or "")
            if doc is not None:
                tx.set(suppression.path(address), doc)
        if found is None or current is None:
            return "unknown_email", None, None
        patch: dict[str, Any] = {"updated_at": now}
        if email_log.advances(current.get("status"), status):
            patch["status"] = status
        events = dict(current.get("events") or {})
        events.setdefault(f"{status}_at", when)
        patch["events"] = events
        if event.bounce_type:
            patch["bounce"] = {"type": event.bounce_type, "subtype": event.bounce_subtype}
        if not current.get("resend_id"):
            patch["resend_id"] = event.email_id
        tx.set(found[1], patch, merge=True)
        return "applied", found[0], patch.get("status", current.get("status"))

    result, tenant_id, new_status = store.transaction(run)
    log.info("resend event", extra={"event_type": event.type, "result": result, "tenant_id": tenant_id,
                                    "resend_id": event.email_id, "email_status": new_status,
                                    "suppressed": bool(reason and event.recipients and result != "duplicate")})
    return result


def _candidates(store: Any, tx: Any, event: EmailEvent) -> list[tuple[str, str]]:
    """``(tenant_id, log path)`` where the event's email may be logged: from our tags, then from
    the global index. Ids that are not plain ids are skipped (a tag is data from outside)."""
    pairs: list[tuple[str, str]] = []
    tenant_id, log_id = event.tags.get("z3_tenant"), event.tags.get("z3_email")
    if tenant_id and log_id:
        pairs.append((tenant_id, log_id))
    if event.email_id and _ID.match(event.email_id):
        index = tx.get(email_log.index_path(event.email_id))
        if index and index.get("tenant_id") and index.get("email_id"):
            pairs.append((str(index["tenant_id"]), str(index["email_id"])))
    out: list[tuple[str, str]] = []
    for tenant_id, log_id in pairs:
        if _ID.match(tenant_id) and _ID.match(log_id):
            path = TenantScope(store, tenant_id).path(email_log.rel_path(log_id))
            if (tenant_id, path) not in out:
                out.append((tenant_id, path))
    return out


def _tags(raw: Any) -> dict[str, str]:
    """Resend echoes tags as ``{"name": "value"}``; accept the send-side list form too."""
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items() if isinstance(v, (str, int))}
    if isinstance(raw, list):
        return {str(t["name"]): str(t["value"]) for t in raw
                if isinstance(t, Mapping) and "name" in t and "value" in t}
    return {}


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
