"""Asking for a notification to the business (email now; other channels later).

Any capability calls :func:`notify_business`; it enqueues one Cloud Task to the ``notify``
worker, named after ``dedup_key`` so the same notification is never sent twice even when the
caller runs twice (webhook retries). The ``notify`` worker renders the template and sends.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field

from shared.models.base import Message
from shared.ports import Ports

Template = Literal[
    "call_summary", "new_voicemail", "new_text_message", "team_invite", "password_reset",
    "security_alert", "privacy_request_update", "marketing", "verify_email", "billing_notice",
    "crm_endpoint_disabled", "integration_disconnected",
    "integration_sync_failed", "policy_update", "account_flagged", "support_request",
    "support_received",
]


class NotifyRequest(Message):
    tenant_id: str
    template: Template
    context: dict[str, Any] = Field(default_factory=dict)
    dedup_key: str
    to_user_id: str | None = None  # default: the tenant's owner/admins
    to_email: str | None = None  # explicit recipient (invites, password reset)


def task_name(dedup_key: str) -> str:
    return "notify-" + hashlib.sha256(dedup_key.encode()).hexdigest()[:40]


def notify_business(ports: Ports, *, tenant_id: str, template: Template, context: dict[str, Any], dedup_key: str,
                    to_user_id: str | None = None, to_email: str | None = None) -> bool:
    """Queue a notification; returns False when the same ``dedup_key`` was queued before."""
    request = NotifyRequest(tenant_id=tenant_id, template=template, context=context, dedup_key=dedup_key,
                            to_user_id=to_user_id, to_email=to_email)
    return ports.tasks().enqueue("notify", request.to_bytes(), name=task_name(dedup_key)).created
