"""``scripts/ops queue list|retry``: each undelivered item named (id, target, attempts, last
error, next attempt), and a dead one made due again, whatever columns the queue adds."""

from __future__ import annotations

import json

import pytest

from shared import runtime
from shared.adapters.local import build_dispatcher
from shared.adapters.local.db import database
from shared.adapters.local.queues import Backoff
from tools import ops


@pytest.fixture
def queue(ports):
    runtime.use(ports)
    yield ports.tasks()
    runtime.reset()


def listed(capsys, *args):
    assert ops.main(["queue", "list", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)["items"]


def test_a_dead_task_is_named_and_retried(queue, ports, capsys):
    queue.enqueue("recording_ingest", b"{}", name="recording-RE1-sweep")
    queue.enqueue("notify", b"{}", name="notify-1")
    failing = build_dispatcher(ports.settings, poster=lambda url, body, headers: 500, backoff=Backoff(max_attempts=1))
    failing.run_once()
    [dead_one, dead_two] = listed(capsys, "--state", "dead")
    assert {dead_one["id"], dead_two["id"]} == {"task/recording-RE1-sweep", "task/notify-1"}
    item = next(i for i in (dead_one, dead_two) if i["id"] == "task/recording-RE1-sweep")
    assert (item["target"], item["attempts"], item["last_error"]) == ("recording_ingest", 1, "HTTP 500")
    assert listed(capsys, "--state", "pending") == []

    assert ops.main(["queue", "retry", "task/recording-RE1-sweep"]) == 0
    assert "was dead: pending, due now" in capsys.readouterr().out
    [pending] = listed(capsys, "--state", "pending")
    assert pending["id"] == "task/recording-RE1-sweep"
    delivered = []
    build_dispatcher(ports.settings, poster=lambda url, body, headers: delivered.append(url) or 200).run_once()
    assert delivered == [ports.settings.function_url("recording_ingest")]
    assert ops.main(["queue", "retry", "task/recording-RE1-sweep"]) == 3
    assert "is done: only a pending or dead item is retried" in capsys.readouterr().err


def test_events_are_listed_by_subscriber_and_extra_columns_change_nothing(queue, ports, capsys):
    db = database(ports.settings.z3_data_dir)
    ports.bus().publish("call.completed", b"{}")
    with db.write() as conn:  # what a queue with leases might add
        conn.execute("ALTER TABLE outbox ADD COLUMN lease_until REAL")
        conn.execute("ALTER TABLE tasks ADD COLUMN lease_until REAL")
    items = listed(capsys)
    assert items and all(i["id"].startswith("event/") and i["state"] == "pending" for i in items)
    assert any(i["target"].startswith("call.completed -> ") for i in items)
    assert ops.main(["queue", "retry", items[0]["id"]]) == 0
    assert ops.main(["queue", "list"]) == 0
    out = capsys.readouterr().out
    assert "outbox: pending" in out and items[0]["id"] in out
