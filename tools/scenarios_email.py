"""Email in the simulated day: after the calls and texts, the notifications they queued reach the
business.

The dispatcher is drained (the ``notify`` tasks the day queued: call summaries, messages taken,
forwarded texts), then the emails Resend received are listed through the real SDK
(``resend.Emails.list``, pointed at the Resend sandbox by ``RESEND_API_URL``) and printed with
who got them -- "email sent to owner: <subject>" -- and what the webhooks said about them
(``email_events`` updates the logs). A marketing email is queued too, and shown refused: the demo
business has not opted in to marketing email.

On a stack whose ``RESEND_API_URL`` is not a sandbox the listing is skipped (it would list a real
account's emails). Listed last in ``tools.simulate.scenarios()``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable


Out = Callable[[str], None]


def notifications_sent(base_url: str, ports: Any, dispatcher: Any, tenant: Any, out: Out) -> None:
    from shared.email.addresses import address_hash, mask
    from shared.notifications import notify_business
    from shared.tenants import TenantScope

    settings = ports.settings
    scope = TenantScope(ports.store(), tenant.id)
    out("Email: the notifications of the day")
    # a hex key: a 19-digit time_ns passes the Luhn check one time in ten and reads as a card number
    marketing_key = f"demo-marketing:{uuid.uuid4().hex}"
    notify_business(ports, tenant_id=tenant.id, template="marketing", dedup_key=marketing_key,
                    context={"headline": "New in Z3 OS", "paragraphs": ["Texts now show up in your dashboard."]})
    if dispatcher is not None:
        dispatcher.drain(timeout=15.0)
    else:  # the stack's own delivery (its dispatcher, or Cloud Tasks on gcp) runs notify
        _wait_for(lambda: scope.query(scope.collection("emails").where("dedup_key", "==", marketing_key)))
    if not settings.resend_api_url:
        out("  (Resend is the real service on this stack: not listing its emails)")
        return
    _wait_for_webhooks(scope)

    roles = {address_hash(d.get("email", "")): d.get("role", "")
             for d in scope.query(scope.collection("users")) if d.get("email")}
    logs = {d.get("resend_id"): d.data for d in scope.query(scope.collection("emails")) if d.get("resend_id")}
    try:
        from shared.providers.resend import configure

        listed = configure(settings).Emails.list({"limit": 100})
    except Exception as exc:  # noqa: BLE001 - the demo reports and goes on
        out(f"  could not list the sandbox's emails: {type(exc).__name__}")
        return
    shown = 0
    for email in reversed(list(listed.get("data") or [])):  # oldest first
        log = logs.get(email.get("id"))
        if log is None:
            continue  # another business's email
        to = (email.get("to") or [""])[0]
        who = roles.get(address_hash(to)) or mask(to)
        out(f"  email sent to {who}: {email.get('subject')}  ({log.get('status')})")
        shown += 1
    if not shown:
        out("  no email was sent (nothing queued a notification?)")
    for log in scope.query(scope.collection("emails").where("dedup_key", "==", marketing_key)):
        out(f"  marketing email to {roles.get(log.get('recipient_hash')) or log.get('recipient')}: "
            f"{'not sent, ' + str(log.get('reason')) if log.get('status') == 'blocked' else log.get('status')}")


def _wait_for(done: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_for_webhooks(scope: Any, timeout: float = 5.0) -> None:
    """Give the sandbox's webhooks (sent, delivered) a moment to reach ``email_events``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [d.get("status") for d in scope.query(scope.collection("emails"))]
        if statuses and all(s not in ("sending", "sent") for s in statuses):
            return
        time.sleep(0.1)
