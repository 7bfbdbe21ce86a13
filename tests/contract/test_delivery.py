"""EventBus and TaskQueue contract: what a subscriber or task target receives, on both backends."""

from __future__ import annotations

import datetime as dt
import json
import time

from tests.contract.conftest import CONTRACT_TOPIC


def _mine(marker, kind):
    return lambda items: [i for i in items if i["marker"] == marker and i["kind"] == kind]


def test_published_event_arrives_as_a_pubsub_cloudevent(backend, marker):
    bus = backend.ports.bus()
    payload = json.dumps({"call_id": "CA1", "marker": marker}).encode()
    message_id = bus.publish(CONTRACT_TOPIC, payload, {"marker": marker, "version": "1"})
    assert message_id
    got = _mine(marker, "event")(backend.wait_for(lambda items: _mine(marker, "event")(items)))
    event = got[0]
    assert event["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event["data"] == payload
    assert event["topic"] == CONTRACT_TOPIC
    assert event["attributes"]["version"] == "1"
    assert event["message_id"] == message_id


def test_deliveries_prove_their_caller_the_way_the_workers_check_it(backend, marker):
    """What arrives at a subscriber and a task target passes ``shared.worker.verify_invoker`` on
    its backend: the local dispatcher's signature, and on the emulators (which send no OIDC
    token) the push token of the subscription's endpoint and the task queue's signature."""
    from shared.worker import verify_invoker

    settings = backend.ports.settings
    backend.ports.bus().publish(CONTRACT_TOPIC, b'{"n": 1}', {"marker": marker})
    body = b'{"n": 2}'
    backend.ports.tasks().enqueue("contract_task", body, name=f"proof-{marker}", headers={"X-Marker": marker})
    [event] = _mine(marker, "event")(backend.wait_for(lambda items: _mine(marker, "event")(items)))
    [task] = _mine(marker, "task")(backend.wait_for(lambda items: _mine(marker, "task")(items)))
    verify_invoker(settings, "contract_sink", "events", event["headers"], event["raw"],
                   push=event["query"].get("z3_push"))
    verify_invoker(settings, "contract_task", "tasks", task["headers"], body)


def test_failed_delivery_is_retried_until_acknowledged(backend, marker):
    from tests.contract import sink_state

    sink_state.fail_next[marker] = 2
    backend.ports.bus().publish(CONTRACT_TOPIC, b"{}", {"marker": marker})
    backend.wait_for(lambda items: _mine(marker, "event")(items), timeout=60)
    assert sink_state.fail_next[marker] == 0


def test_task_is_posted_to_its_target(backend, marker):
    queue = backend.ports.tasks()
    body = json.dumps({"recording_sid": "RE1"}).encode()
    ref = queue.enqueue("contract_task", body, name=f"rec-{marker}", headers={"X-Marker": marker})
    assert ref.created
    got = _mine(marker, "task")(backend.wait_for(lambda items: _mine(marker, "task")(items)))
    assert got[0]["body"] == body
    assert got[0]["task_name"].endswith(f"rec-{marker}")
    assert got[0]["headers"].get("Content-Type") == "application/json"


def test_named_task_is_deduplicated(backend, marker):
    queue = backend.ports.tasks()
    first = queue.enqueue("contract_task", b'{"n":1}', name=f"dup-{marker}", headers={"X-Marker": marker})
    second = queue.enqueue("contract_task", b'{"n":2}', name=f"dup-{marker}", headers={"X-Marker": marker})
    assert first.created and not second.created
    backend.wait_for(lambda items: _mine(marker, "task")(items))
    time.sleep(0.5)
    backend.pump()
    from tests.contract import sink_state

    assert [i["body"] for i in _mine(marker, "task")(sink_state.received)] == [b'{"n":1}']


def test_scheduled_task_waits_for_its_time(backend, marker):
    queue = backend.ports.tasks()
    due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    queue.enqueue("contract_task", b"{}", name=f"later-{marker}", schedule_time=due, headers={"X-Marker": marker})
    backend.pump()
    from tests.contract import sink_state

    assert not _mine(marker, "task")(sink_state.received)
    [task] = _mine(marker, "task")(backend.wait_for(lambda items: _mine(marker, "task")(items), timeout=30))
    assert dt.datetime.now(dt.timezone.utc) >= due - dt.timedelta(milliseconds=200)
    from shared.worker import verify_invoker

    verify_invoker(backend.ports.settings, "contract_task", "tasks", task["headers"], b"{}")  # signed when due


def test_failed_task_is_retried(backend, marker):
    from tests.contract import sink_state

    sink_state.fail_next[marker] = 1
    backend.ports.tasks().enqueue("contract_task", b"{}", headers={"X-Marker": marker})
    backend.wait_for(lambda items: _mine(marker, "task")(items), timeout=60)
    assert sink_state.fail_next[marker] == 0
