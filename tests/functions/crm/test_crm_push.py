"""CRM webhooks end to end: an endpoint added for a business, a domain event fanned out to it,
``crm_push`` (through functions-framework, called as the local dispatcher calls it) posting the
signed payload to the loopback CRM receiver; retries with backoff, 24 hours, disabling."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.crm import delivery, endpoints, fanout, setup
from shared.crm.fanout import CrmPushTask
from shared.ports import StoreUnavailable
from tests.functions.crm.conftest import queued, run_task
from tests.functions.email.support import TENANT

OCCURRED = dt.datetime(2026, 3, 2, 18, 5, tzinfo=dt.timezone.utc)


def add(ports, receiver, name="crm", events=("call.completed", "appointment.booked")):
    path = receiver.hook(name)
    endpoint, secret = setup.add_endpoint(ports, TENANT, url=receiver.url + path, events=list(events),
                                              description="Our CRM")
    receiver.use_secret(name, secret)
    return endpoint, secret


def emit(ports, event_type="call.completed", key="CA1"):
    return fanout.emit(ports, TENANT, event_type, event_key=key, occurred_at=OCCURRED,
                         data={"call_sid": key, "caller_number": "+13035550142", "outcome": "appointment_booked"})


def deliver_all(client, settings, done: set[str] | None = None) -> list:
    """Run every queued crm_push task not run yet (in order); returns their answers."""
    done = done if done is not None else set()
    answers = []
    for name, body, _due in queued(settings):
        if name not in done:
            done.add(name)
            answers.append(run_task(client, body))
    return answers


def test_an_event_reaches_the_crm_signed_per_standard_webhooks(client, ports, settings, business, receiver):
    from standardwebhooks.webhooks import Webhook

    endpoint, secret = add(ports, receiver)
    assert emit(ports) == 1
    [(status, answer)] = deliver_all(client, settings)
    assert status == 200 and answer["status"] == "delivered" and answer["last_status_code"] == 204
    [got] = receiver.received
    # The reference implementation accepts what we sent, with the secret the business was shown.
    assert Webhook(secret).verify(got.body, got.headers) == got.event
    assert got.event == {"type": "call.completed", "timestamp": "2026-03-02T18:05:00+00:00", "tenant_id": TENANT,
                         "data": {"call_sid": "CA1", "caller_number": "+13035550142",
                                  "outcome": "appointment_booked"}}
    assert got.headers["Webhook-Signature"].startswith("v1,") and got.webhook_id.startswith("msg_")
    [log] = delivery.delivery_log(ports, TENANT, endpoint.id)
    assert log["status"] == "delivered" and log["attempts"] == 1 and log["last_status_code"] == 204
    assert "+13035550142" not in repr(log)  # the log holds no payload


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried(client, ports, settings, business, receiver):
    endpoint, _secret = add(ports, receiver)
    receiver.use_secret("crm", "whsec_" + "QUJD" * 8)  # the CRM holds another secret
    emit(ports)
    [(status, answer)] = deliver_all(client, settings)
    assert status == 200 and answer["status"] == "retrying" and answer["last_status_code"] == 401
    assert receiver.rejected and not receiver.received


def test_the_secret_is_stored_encrypted(ports, business, receiver):
    endpoint, secret = add(ports, receiver)
    stored = business.get(f"crm_endpoints/{endpoint.id}")
    assert secret not in repr(stored) and secret.removeprefix("whsec_") not in repr(stored)
    assert setup.endpoint_secret(ports, TENANT, endpoint.id) == secret


def test_a_redelivered_event_and_a_redelivered_task_send_once(client, ports, settings, business, receiver):
    add(ports, receiver)
    assert emit(ports) == 1 and emit(ports) == 0  # the event came twice: one delivery
    [(name, body, _)] = queued(settings)
    assert run_task(client, body)[1]["status"] == "delivered"
    assert run_task(client, body)[1]["status"] == "delivered"  # Cloud Tasks delivered the task twice
    assert len(receiver.received) == 1


def test_only_endpoints_that_chose_the_event_get_it(client, ports, settings, business, receiver):
    add(ports, receiver, "calls", events=["call.completed"])
    add(ports, receiver, "texts", events=["message.received"])
    emit(ports, "message.received", key="SM1")
    deliver_all(client, settings)
    assert [e["type"] for e in receiver.events("texts")] == ["message.received"] and not receiver.events("calls")


def test_failures_back_off_exponentially_then_succeed_with_the_same_webhook_id(client, ports, settings, clock,
                                                                                  business, receiver):
    endpoint, _ = add(ports, receiver)
    receiver.fail_next("crm", 500, 503, 429)
    emit(ports)
    done: set[str] = set()
    waits = []
    for _ in range(4):
        before = clock.now()
        [(status, answer)] = deliver_all(client, settings, done)
        assert status == 200
        if answer["status"] == "retrying":
            due = max(d for n, _b, d in queued(settings) if n not in done)
            waits.append(round(due - before.timestamp()))
            clock.current = dt.datetime.fromtimestamp(due, dt.timezone.utc)
    assert waits == [30, 60, 120] and answer["status"] == "delivered"
    [log] = delivery.delivery_log(ports, TENANT, endpoint.id)
    assert log["attempts"] == 4 and log["last_status_code"] == 204
    assert len({r.webhook_id for r in receiver.received}) == 1
    assert business.get(f"crm_endpoints/{endpoint.id}")["failing_since"] is None  # healthy again


def test_an_endpoint_failing_for_24_hours_is_disabled_and_the_owner_emailed(client, ports, settings, clock,
                                                                              business, receiver):
    endpoint, _ = add(ports, receiver)
    receiver.answer_with("crm", 500)
    emit(ports)
    start = clock.now()
    done: set[str] = set()
    attempts = 0
    while True:
        answers = deliver_all(client, settings, done)
        if not answers:
            break
        attempts += len(answers)
        pending = [d for n, _b, d in queued(settings) if n not in done]
        if pending:
            clock.current = dt.datetime.fromtimestamp(max(pending), dt.timezone.utc)
    [log] = delivery.delivery_log(ports, TENANT, endpoint.id)
    assert log["status"] == "failed" and "endpoint disabled" in log["last_error"] and log["last_status_code"] == 500
    assert clock.now() - start == dt.timedelta(hours=24) and 10 <= attempts <= 16
    stored = endpoints.get_endpoint(ports, TENANT, endpoint.id)
    assert not stored.enabled and stored.disabled_reason == "failing for 24 hours"
    notices = [json.loads(body) for _n, body, _d in queued(settings, "notify")]
    assert [n["template"] for n in notices] == ["crm_endpoint_disabled"]
    assert notices[0]["context"]["endpoint_host"] == "127.0.0.1" and notices[0]["to_user_id"] is None
    # Nothing goes to a disabled endpoint; a test event still can, to check a fix.
    receiver.answer_with("crm", None)
    clock.current = dt.datetime.now(dt.timezone.utc)  # the receiver checks timestamps against its real clock
    assert emit(ports, key="CA2") == 0
    assert delivery.send_test(ports, TENANT, endpoint.id).status == "delivered"
    assert [e["type"] for e in receiver.events("crm")] == ["webhook.test"]


def test_store_down_answers_503_so_cloud_tasks_retries(client, ports, settings, business, receiver, monkeypatch):
    add(ports, receiver)
    emit(ports)
    [(_name, body, _)] = queued(settings)
    store = ports.store()

    def down(*_a, **_k):
        raise StoreUnavailable("firestore down")

    monkeypatch.setattr(store, "get", down)
    status, _ = run_task(client, body)
    assert status == 503
    monkeypatch.undo()
    assert run_task(client, body)[1]["status"] == "delivered"


def test_forged_and_malformed_tasks(client, ports, business):
    from tests.functions.local import worker_headers

    body = CrmPushTask(tenant_id=TENANT, endpoint_id="we_x", delivery_id="wd_x", event_type="call.completed",
                       body="{}").to_bytes()
    assert client("crm_push").post("/", data=body, headers={"Content-Type": "application/json"}).status_code == 403
    junk = b'{"tenant_id": 1}'
    response = client("crm_push").post("/", data=junk, headers=worker_headers("crm_push", junk))
    assert response.status_code == 200 and json.loads(response.get_data())["result"] == "dropped"


@pytest.mark.parametrize("events", [[], ["call.started"]])
def test_unknown_events_are_refused(ports, business, receiver, events):
    from shared.errors import InvalidInput

    with pytest.raises(InvalidInput, match="choose events among"):
        setup.add_endpoint(ports, TENANT, url=receiver.url + "/hooks/x", events=events)
