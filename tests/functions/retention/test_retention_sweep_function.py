"""retention_sweep through functions-framework: the scheduler's call sweeps the day's run, a
second call the same day deletes nothing, a run out of time queues its continuation and the
continuation finishes it; a forged caller is 403, a bad body 400, a store down 503."""

from __future__ import annotations

import json

from shared.adapters.local.db import database
from tests.contract.retention_data import AS_OF, seed, snapshot
from tests.functions.local import worker_headers
from tests.functions.voice.support import DownStore


def post(client, body: bytes = b""):
    return client("retention_sweep").post("/", data=body, headers=worker_headers("retention_sweep", body))


def test_the_daily_call_sweeps_and_a_second_call_deletes_nothing(client, ports, clock):
    clock.current = AS_OF.replace(hour=23)  # the daily run is as of midnight: AS_OF
    ids, expect = seed(ports, "t_fn_")
    response = post(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert report["complete"] and report["run_id"] == "run-20270601T000000" and report["totals"]["deleted"] > 0
    state = snapshot(ports, ids)
    assert not (expect.gone & set(state)) and expect.kept <= set(state)
    again = post(client).get_json()
    assert again["totals"]["deleted"] == report["totals"]["deleted"]  # the same run's counts, nothing new
    assert snapshot(ports, ids) == state


def test_a_run_out_of_time_queues_its_continuation_which_finishes_it(client, ports, clock):
    clock.current = AS_OF
    ids, expect = seed(ports, "t_cont_")
    ports.settings = ports.settings.model_copy(update={"z3_retention_budget_seconds": 0})
    first = post(client).get_json()
    assert not first["complete"] and first["continuation"]
    [(name, target, body)] = database(ports.settings.z3_data_dir).read("SELECT name, target, body FROM tasks")
    assert (target, json.loads(body)) == ("retention_sweep", {"run_id": first["run_id"]})
    ports.settings = ports.settings.model_copy(update={"z3_retention_budget_seconds": 240})
    done = post(client, body).get_json()
    assert done["complete"] and done["run_id"] == first["run_id"]
    assert not (expect.gone & set(snapshot(ports, ids)))


def test_a_forged_caller_is_refused(client, ports):
    response = client("retention_sweep").post("/", data=b"")
    assert response.status_code == 403


def test_a_bad_body_is_400_with_a_reason(client, ports):
    response = post(client, b'{"run_id": "../../x"}')
    assert response.status_code == 400 and "run id" in response.get_data(as_text=True)
    response = post(client, b'{"run_id": "run-20990101T000000"}')
    assert response.status_code == 400 and "no retention run" in response.get_data(as_text=True)
    assert post(client, b"{not json").status_code == 400


def test_the_store_down_is_503_so_the_scheduler_retries(client, ports):
    ports.provide(store=DownStore())
    assert post(client).status_code == 503
