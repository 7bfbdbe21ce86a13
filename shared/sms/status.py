"""Delivery status callbacks (``sms_status``): the delivery log of each text.

Each callback merges one status into the message document with
:func:`shared.sms.messages.apply_status` inside a transaction: the stored status only ever
moves up the rank order, so duplicates and out-of-order callbacks leave the same final state,
and every status seen is kept with its time and ``ErrorCode``.

The business is found by the text's ``From`` (our number, for the texts we send), else its
``To``. A callback may arrive before the send gate has recorded the message (Twilio can be
faster than our second write); it then creates the document with what it knows and the gate's
record merges into it without moving the status back. A callback for a number that belongs to
no business is acknowledged and logged (nothing is ours to update; Twilio would only retry).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.base import Model
from shared.ports import Ports
from shared.sms import messages
from shared.tenants import TenantScope, tenant_for_number

log = get_logger("z3.sms.status")

_STATUS = re.compile(r"^[a-z_\-]{1,32}$")


class StatusReport(Model):
    message_sid: str
    status: str
    sender: str = ""
    recipient: str = ""
    error_code: str | None = None

    @field_validator("message_sid")
    @classmethod
    def _sid(cls, value: str) -> str:
        return messages.check_message_sid(value)

    @classmethod
    def from_form(cls, form: dict[str, str]) -> "StatusReport":
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not sid:
            raise InvalidInput("missing MessageSid")
        if not status or not _STATUS.match(status):
            raise InvalidInput("missing or malformed MessageStatus")
        code = (form.get("ErrorCode") or "").strip() or None
        if code is not None and not code.isdigit():
            raise InvalidInput("malformed ErrorCode")
        return cls.model_validate({"message_sid": sid, "status": status, "sender": form.get("From", ""),
                                   "recipient": form.get("To", ""), "error_code": code})


def apply_report(ports: Ports, report: StatusReport) -> str | None:
    """Merge one status report; returns the message's status afterwards (None: no business)."""

    store = ports.store()
    tenant = tenant_for_number(store, report.sender) or tenant_for_number(store, report.recipient)
    if tenant is None:
        log.warning("status callback for a number that belongs to no business",
                    extra={"message_sid": report.message_sid, "status": report.status})
        return None
    scope = TenantScope(store, tenant.id)
    now = ports.clock().now()
    path = f"messages/{report.message_sid}"

    def merge(tx: Any) -> str | None:
        current = tx.get(path)
        update = messages.apply_status(current, report.status, at=now, error_code=report.error_code)
        if current is None:
            update = {"id": report.message_sid, "sid": report.message_sid, "tenant_id": tenant.id,
                      "direction": "outbound", "from": report.sender, "to": report.recipient, "created_at": now,
                      "expire_at": messages.expire_at(now), **update}
        tx.set(path, update, merge=True)
        return update["status"]

    final = scope.transaction(merge)
    if report.status not in messages.STATUS_RANK:
        log.info("unknown message status recorded", extra={"message_sid": report.message_sid, "status": report.status})
    log.info("message status", extra={"tenant_id": tenant.id, "message_sid": report.message_sid,
                                      "reported": report.status, "status": final, "error_code": report.error_code})
    return final
