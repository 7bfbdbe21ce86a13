"""``email_events``: Resend's Svix-signed webhooks move the email logs forward (never back),
once per svix-id, and put hard bounces and complaints on the suppression list the mailer
honours."""

from __future__ import annotations

import json
import time

from shared.email import suppression
from shared.email.addresses import address_hash
from tests.functions.email.support import (OWNER, body, deliver_webhooks, emails, post_task, post_webhook, task)
from tools.sandboxes.resend import Webhook, sign_svix


def _owner_log(scope):
    return next(e for e in emails(scope) if e["recipient_hash"] == address_hash(OWNER))


def _send_to_owner(client, resend, dedup_key="call_summary:CA1"):
    post_task(client, task(dedup_key=dedup_key, to_email=OWNER))
    return resend.sent_to(OWNER)[-1]


def _signed(settings, payload, **kwargs) -> Webhook:
    raw = json.dumps(payload).encode()
    return Webhook(settings.function_url("email_events"), raw,
                   sign_svix(settings.secret("resend_webhook_secret"), raw, **kwargs))


def test_sent_then_delivered(client, business, resend):
    _send_to_owner(client, resend)
    assert deliver_webhooks(client, resend) == [200, 200]
    log = _owner_log(business)
    assert log["status"] == "delivered" and set(log["events"]) == {"sent_at", "delivered_at"}


def test_out_of_order_events_never_move_a_log_backwards(client, business, resend):
    email = _send_to_owner(client, resend)
    resend.take_webhooks()
    for kind in ("email.clicked", "email.delivered", "email.opened", "email.sent"):
        assert post_webhook(client, resend.webhook(email, kind)).status_code == 200
    log = _owner_log(business)
    assert log["status"] == "clicked"
    assert set(log["events"]) == {"clicked_at", "delivered_at", "opened_at", "sent_at"}


def test_a_duplicate_svix_id_has_one_effect(client, business, resend, ports):
    email = _send_to_owner(client, resend)
    resend.take_webhooks()
    hook = resend.webhook(email, "email.complained", msg_id="msg_dup_1")
    assert body(post_webhook(client, hook))["result"] == "applied"
    first = ports.store().get(suppression.path(OWNER))
    ports.store().delete(suppression.path(OWNER))  # an operator lifted it meanwhile
    again = post_webhook(client, resend.webhook(email, "email.complained", msg_id="msg_dup_1"))
    assert again.status_code == 200 and body(again)["result"] == "duplicate"
    assert first is not None and ports.store().get(suppression.path(OWNER)) is None


def test_a_hard_bounce_suppresses_and_the_next_notification_is_not_sent(client, business, resend, ports):
    resend.bounce(OWNER)
    _send_to_owner(client, resend)
    assert deliver_webhooks(client, resend) == [200, 200]
    assert _owner_log(business)["status"] == "bounced"
    entry = ports.store().get(suppression.path(OWNER))
    assert entry["reason"] == "bounced" and OWNER not in repr(entry) and "sunrise" not in repr(entry)
    result = body(post_task(client, task(dedup_key="call_summary:CA2", to_email=OWNER)))
    assert result["emails"][0]["status"] == "blocked" and result["emails"][0]["reason"] == "suppressed_bounced"
    assert len(resend.sent_to(OWNER)) == 1


def test_a_complaint_suppresses(client, business, resend, ports):
    resend.complain(OWNER)
    _send_to_owner(client, resend)
    assert deliver_webhooks(client, resend) == [200, 200, 200]
    assert _owner_log(business)["status"] == "complained"
    assert ports.store().get(suppression.path(OWNER))["reason"] == "complained"


def test_a_soft_bounce_is_recorded_but_suppresses_nothing(client, business, resend, ports):
    resend.bounce(OWNER, bounce_type="Transient")
    _send_to_owner(client, resend)
    deliver_webhooks(client, resend)
    log = _owner_log(business)
    assert log["status"] == "bounced" and log["bounce"]["type"] == "Transient"
    assert ports.store().get(suppression.path(OWNER)) is None


def test_a_bounce_for_an_email_we_have_no_log_of_still_suppresses(client, business, resend, settings, ports):
    hook = _signed(settings, {"type": "email.bounced", "created_at": "2026-03-02T18:00:00Z", "data": {
        "email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", "to": ["gone@example.com"], "subject": "x",
        "from": "a@b.example", "created_at": "2026-03-02T18:00:00Z",
        "bounce": {"type": "Permanent", "subType": "General", "message": "no such user"}}})
    response = post_webhook(client, hook)
    assert response.status_code == 200 and body(response)["result"] == "unknown_email"
    assert ports.store().get(suppression.path("gone@example.com"))["reason"] == "bounced"


def test_forged_or_stale_signatures_are_refused(client, business, resend, ports):
    email = _send_to_owner(client, resend)
    resend.take_webhooks()
    genuine = resend.webhook(email, "email.complained")
    forged = Webhook(genuine.url, genuine.body, sign_svix("whsec_" + "QUJD" * 8, genuine.body))
    tampered = Webhook(genuine.url, genuine.body.replace(b"email.complained", b"email.delivered"), genuine.headers)
    stale = resend.webhook(email, "email.complained", timestamp=int(time.time()) - 600)
    unsigned = Webhook(genuine.url, genuine.body, {"Content-Type": "application/json"})
    for hook in (forged, tampered, stale, unsigned):
        assert post_webhook(client, hook).status_code == 403
    assert ports.store().get(suppression.path(OWNER)) is None
    assert _owner_log(business)["status"] == "sent"


def test_signed_but_malformed_bodies_are_400(client, business, settings):
    secret = settings.secret("resend_webhook_secret")
    for raw in (b"not json", b"[1, 2]", b'{"type": "email.delivered"}',
                b'{"type": "email.delivered", "data": {"to": ["a@b.example"]}}', b'{"data": {}}'):
        hook = Webhook("", raw, sign_svix(secret, raw))
        assert post_webhook(client, hook).status_code == 400, raw


def test_events_we_do_not_use_are_acknowledged(client, business, settings):
    hook = _signed(settings, {"type": "contact.created", "created_at": "2026-03-02T18:00:00Z",
                              "data": {"id": "c1", "email": "x@y.example"}})
    response = post_webhook(client, hook)
    assert response.status_code == 200 and body(response)["result"] == "ignored"


def test_storage_down_answers_503(client, business, resend, ports, monkeypatch):
    from shared.ports import StoreUnavailable

    email = _send_to_owner(client, resend)
    resend.take_webhooks()
    store = ports.store()

    def down(*args, **kwargs):
        raise StoreUnavailable("sqlite is gone")

    monkeypatch.setattr(store, "transaction", down)
    assert post_webhook(client, resend.webhook(email, "email.delivered")).status_code == 503
