"""A support request: ``tenants/{t}/support_requests/{id}``, kept 2 years (``expire_at``).

Rules this module keeps:

* The request is stored first, then two notifications are queued: the request to the support
  address from the settings (``Z3_SUPPORT_EMAIL``, template ``support_request``) and an
  acknowledgement to the member who sent it (``support_received``, addressed by user id so the
  task holds no address). Both are named after the request id: a retried submit or a retried
  task never sends twice.
* The id comes from the form the member was shown (``request_id``, made when the page was
  rendered): submitting the same form twice (a double click, the browser's resend) stores one
  request and sends one email each, and says so.
* Validation: a subject of 3 to 150 characters and a message of 10 to 5,000, field by field.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from shared.accounts.errors import InvalidInput
from shared.notifications import notify_business
from shared.ports import Ports
from shared.tenants import TenantScope

KEEP = dt.timedelta(days=730)
TOPICS = {"calls": "Calls and the AI receptionist", "texts": "Text messages", "billing": "Billing",
          "account": "My account and team", "privacy": "Privacy and my data", "other": "Something else"}
_ID = re.compile(r"^sr_[A-Za-z0-9_-]{16,40}$")


class SupportInvalid(InvalidInput):
    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = errors


@dataclass(frozen=True)
class Submitted:
    request_id: str
    created: bool  # False: this form was submitted before
    expire_at: dt.datetime  # when the stored request is deleted


def new_request_id() -> str:
    return "sr_" + secrets.token_urlsafe(18)


def submit(ports: Ports, now: dt.datetime, *, tenant_id: str, user_id: str, request_id: str, topic: str,
           subject: str, message: str) -> Submitted:
    subject, message = subject.strip(), message.strip()
    errors: dict[str, str] = {}
    if not _ID.match(request_id or ""):
        errors["request_id"] = "reload the page and send the form again"
    if topic not in TOPICS:
        errors["topic"] = "choose a topic from the list"
    if not 3 <= len(subject) <= 150:
        errors["subject"] = "write a subject of 3 to 150 characters"
    if not 10 <= len(message) <= 5000:
        errors["message"] = "write a message of 10 to 5,000 characters"
    if errors:
        raise SupportInvalid(errors)
    scope = TenantScope(ports.store(), tenant_id)
    path = scope.path(f"support_requests/{request_id}")
    created = ports.store().create(path, {
        "id": request_id, "user_id": user_id, "topic": topic, "subject": subject, "message": message,
        "status": "open", "created_at": now, "expire_at": now + KEEP})
    expire_at = now + KEEP if created else (ports.store().get(path) or {}).get("expire_at") or now + KEEP
    # queued on every submit (the task names dedupe them): a crash between the write and the
    # queue is mended by the member sending the form again
    context = {"request_id": request_id, "topic": TOPICS[topic], "subject": subject, "message": message,
               "tenant_id": tenant_id, "submitted_at": now.isoformat()}
    notify_business(ports, tenant_id=tenant_id, template="support_request", context=context,
                    dedup_key=f"support_request:{tenant_id}:{request_id}", to_email=ports.settings.z3_support_email)
    notify_business(ports, tenant_id=tenant_id, template="support_received",
                    context={"request_id": request_id, "subject": subject, "topic": TOPICS[topic]},
                    dedup_key=f"support_received:{tenant_id}:{request_id}", to_user_id=user_id)
    return Submitted(request_id, created, expire_at)
