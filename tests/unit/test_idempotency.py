from __future__ import annotations

import pytest

from shared import idempotency


def test_claim_in_transaction_makes_duplicates_no_ops(store, clock):
    def apply(tx):
        if not idempotency.claim_in(tx, "stripe", "evt_1", now=clock.now()):
            return "duplicate"
        n = (tx.get("counters/c") or {"n": 0})["n"]
        tx.set("counters/c", {"n": n + 1})
        return "applied"

    assert store.transaction(apply) == "applied"
    assert store.transaction(apply) == "duplicate"
    assert store.get("counters/c") == {"n": 1}


def test_failed_effect_leaves_no_claim(store, clock):
    def apply(tx):
        idempotency.claim_in(tx, "stripe", "evt_2", now=clock.now())
        raise RuntimeError("store write failed")

    with pytest.raises(RuntimeError):
        store.transaction(apply)
    assert not idempotency.seen(store, "stripe", "evt_2")


def test_run_once_runs_the_first_delivery_only(store, clock):
    calls = []
    assert idempotency.run_once(store, "twilio", "RE1", lambda: calls.append(1) or "ok", clock=clock) == (True, "ok")
    assert idempotency.run_once(store, "twilio", "RE1", lambda: calls.append(2), clock=clock) == (False, None)
    assert calls == [1]
    record = store.get(idempotency.key_path("twilio", "RE1"))
    assert record["state"] == "done" and record["expire_at"] > clock.now()


def test_run_once_retries_after_a_failure(store, clock):
    def boom():
        raise ConnectionError("provider down")

    with pytest.raises(ConnectionError):
        idempotency.run_once(store, "retell", "call_1", boom, clock=clock)
    assert idempotency.run_once(store, "retell", "call_1", lambda: "second try", clock=clock) == (True, "second try")


def test_concurrent_duplicate_is_told_to_come_back(store, clock):
    seen_inner = []

    def outer():
        with pytest.raises(idempotency.InProgress):
            idempotency.run_once(store, "retell", "call_2", lambda: seen_inner.append(1), clock=clock)
        return "outer"

    assert idempotency.run_once(store, "retell", "call_2", outer, clock=clock) == (True, "outer")
    assert seen_inner == []


def test_stale_processing_record_is_taken_over(store, clock):
    path = idempotency.key_path("retell", "call_3")
    store.set(path, {"state": "processing", "lease_until": clock.now(), "expire_at": clock.now()})
    clock.advance(seconds=1)
    assert idempotency.run_once(store, "retell", "call_3", lambda: "took over", clock=clock) == (True, "took over")


def test_odd_event_ids_are_safe_paths():
    assert idempotency.key_path("intuit", "a/b c") == "webhook_events/intuit:a_b_c"
    with pytest.raises(ValueError):
        idempotency.key_path("intuit", "")
