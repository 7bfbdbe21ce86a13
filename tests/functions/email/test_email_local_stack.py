"""End to end on the local stack: ``notify_business`` -> the local task queue -> the dispatcher
posts the task over HTTP to ``notify`` -> the real Resend SDK -> the Resend sandbox, whose signed
webhooks come back over HTTP to ``email_events``. Redelivery sends nothing twice; Resend down
means the queue retries until it is back."""

from __future__ import annotations

import time

import pytest

from shared import runtime
from shared.config import Settings
from shared.email.addresses import address_hash
from shared.notifications import NotifyRequest, notify_business
from shared.runtime import Ports
from tests.functions.email.support import ADMIN, CALL_CONTEXT, OWNER, emails, seed_business


@pytest.fixture
def stack(tmp_path):
    from shared.adapters.local import build_dispatcher
    from shared.adapters.local.db import forget
    from tools.sandboxes.resend import ResendSandbox
    from tools.wsgi import ServerThread, function_app, mount

    server = ServerThread(mount({name: function_app(name) for name in ("notify", "email_events")})).start()
    base = Settings(Z3_BACKEND="local", PUBLIC_BASE_URL=server.url)
    sandbox = ResendSandbox.from_settings(base, webhooks="auto", webhook_delay=0.01).start()
    settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data", PUBLIC_BASE_URL=server.url,
                        RESEND_API_URL=sandbox.url)
    ports = runtime.use(Ports(settings))
    dispatcher = build_dispatcher(settings)
    try:
        yield ports, sandbox, dispatcher
    finally:
        sandbox.stop()
        server.stop()
        runtime.reset()
        ports.close()
        forget(settings.z3_data_dir)


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_notification_reaches_the_owner_once_and_its_delivery_is_recorded(stack):
    ports, sandbox, dispatcher = stack
    scope = seed_business(ports)
    assert notify_business(ports, tenant_id=scope.tenant_id, template="call_summary", context=CALL_CONTEXT,
                           dedup_key="call_summary:CA42") is True
    assert notify_business(ports, tenant_id=scope.tenant_id, template="call_summary", context=CALL_CONTEXT,
                           dedup_key="call_summary:CA42") is False  # the task name deduplicates
    dispatcher.drain(timeout=10)
    # Cloud Tasks delivers at least once: the same request arrives again under another task.
    request = NotifyRequest(tenant_id=scope.tenant_id, template="call_summary", context=CALL_CONTEXT,
                            dedup_key="call_summary:CA42")
    ports.tasks().enqueue("notify", request.to_bytes(), name="notify-redelivered")
    dispatcher.drain(timeout=10)

    assert sorted(a for e in sandbox.emails for a in e.to) == sorted([OWNER, ADMIN])
    assert sandbox.sent_to(OWNER)[0].subject == "Call from Jordan <b>Lee</b>: appointment booked"
    assert _wait(lambda: {e["status"] for e in emails(scope)} == {"delivered"}), emails(scope)
    assert {(h[1], h[2]) for h in sandbox.webhook_results} == {("email.sent", 200), ("email.delivered", 200)}


def test_resend_down_the_queue_retries_until_it_is_back(stack):
    ports, sandbox, dispatcher = stack
    scope = seed_business(ports)
    port = sandbox.port
    sandbox.stop()
    notify_business(ports, tenant_id=scope.tenant_id, template="new_text_message", to_email=OWNER,
                    context={"from": "+13035550142", "body": "Running late"}, dedup_key="sms:SM1")
    assert dispatcher.run_once() == 0  # notify answered 503: not acknowledged
    (log,) = emails(scope)
    assert log["status"] == "sending" and log["recipient_hash"] == address_hash(OWNER)
    sandbox.start(port=port)
    time.sleep(0.3)  # past the queue's first backoff
    dispatcher.drain(timeout=10)
    assert [e.subject for e in sandbox.emails] == ["New text from (303) 555-0142"]
    assert _wait(lambda: emails(scope)[0]["status"] == "delivered")
