"""The retention sweep's properties, once per backend: after a sweep nothing past its time
remains, nothing within its time or on hold is gone, a second sweep deletes nothing, and a
sweep killed at any point (between a blob and its document included) and resumed ends in the
same state as one uninterrupted run."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.ports import FixedClock
from shared.retention.sweep import sweep
from shared.runtime import Ports
from tests.contract.retention_data import AS_OF, seed, snapshot


class Killed(BaseException):
    """The process died (a BaseException, like the signal that kills it: nothing catches it)."""


class Killer:
    def __init__(self, at: int | None) -> None:
        self.at, self.count = at, 0

    def tick(self) -> None:
        self.count += 1
        if self.at is not None and self.count == self.at:
            raise Killed()


class _Blobs:
    def __init__(self, inner, killer: Killer) -> None:
        self._inner, self._killer = inner, killer

    def delete(self, path: str) -> None:
        self._killer.tick()
        self._inner.delete(path)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Batch:
    def __init__(self, inner, killer: Killer) -> None:
        self._inner, self._killer = inner, killer

    def commit(self) -> None:
        self._killer.tick()
        self._inner.commit()

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Store:
    def __init__(self, inner, killer: Killer) -> None:
        self._inner, self._killer = inner, killer

    def batch(self):
        return _Batch(self._inner.batch(), self._killer)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def killing_ports(ports: Ports, killer: Killer) -> Ports:
    return Ports(ports.settings).provide(store=_Store(ports.store(), killer), blobs=_Blobs(ports.blobs(), killer),
                                         clock=FixedClock(AS_OF))


_VARYING = {"hash", "prev_hash", "head_hash"}  # over the tenant id


def normalised(state: dict, prefix: str) -> dict:
    """The state with the tenant ids replaced, less what varies between two seedings (the
    tenants' own documents, their audit and holds: sign-up times; consent hashes: over the id)."""
    return {path.replace(prefix, "P"): json.dumps(data if data == "blob" else
                                                  {k: v for k, v in data.items() if k not in _VARYING},
                                                  sort_keys=True, default=str).replace(prefix, "P")
            for path, data in state.items()
            if path.count("/") > 1 and "/audit/" not in path and "/holds/" not in path}


def test_a_sweep_deletes_what_is_due_and_keeps_the_rest(ports):
    prefix = "t_ret_" + uuid.uuid4().hex[:6]
    ids, expect = seed(ports, prefix)
    report = sweep(Ports(ports.settings).provide(store=ports.store(), blobs=ports.blobs(), clock=FixedClock(AS_OF)),
                   page=3)
    state = snapshot(ports, ids)
    assert report.complete and not report.errors
    assert not (expect.gone & set(state)), sorted(expect.gone & set(state))
    assert expect.kept <= set(state), sorted(expect.kept - set(state))
    for path in expect.stripped:
        assert state[path]["recordings"] == [] and state[path]["transcript"] == "Agent: hello"
    for path in expect.cleared:
        assert state[path]["transcript"] is None and state[path]["recordings"]
    b, c = ids[1], ids[2]
    assert report.tenants[b]["calls"]["held"] == 2 and report.tenants[b]["messages"]["held"] == 1
    assert report.tenants[b]["consent"]["held"] == 1
    assert report.tenants[c]["calls"]["held"] == 1 and report.tenants[c]["messages"]["held"] == 1
    stored = ports.store().get(f"retention_runs/{report.run_id}")
    assert stored["state"] == "done" and stored["totals"]["deleted"] == report.total("deleted") > 0

    again = sweep(Ports(ports.settings).provide(store=ports.store(), blobs=ports.blobs(), clock=FixedClock(AS_OF)),
                  run_id="run-20990101T000000")
    assert {key: again.total(key) for key in ("deleted", "recordings", "transcripts")} == \
        {"deleted": 0, "recordings": 0, "transcripts": 0}
    assert snapshot(ports, ids) == state


def test_a_dry_run_deletes_nothing_and_names_what_would_go(ports):
    prefix = "t_dry_" + uuid.uuid4().hex[:6]
    ids, expect = seed(ports, prefix)
    before = snapshot(ports, ids)
    report = sweep(Ports(ports.settings).provide(store=ports.store(), blobs=ports.blobs(), clock=FixedClock(AS_OF)),
                   dry_run=True)
    assert snapshot(ports, ids) == before
    assert ports.store().get(f"retention_runs/{report.run_id}") is None
    gone_docs = {p for p in expect.gone if not p.endswith(".wav") and "/events/" not in p}
    assert gone_docs <= set(report.would_delete)


_reference: dict[str, dict] = {}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kill_fraction=st.floats(min_value=0, max_value=1, exclude_max=True), page=st.integers(min_value=2, max_value=5))
def test_a_killed_sweep_resumed_ends_as_an_uninterrupted_one(backend, ports, kill_fraction, page):
    if backend.name not in _reference:
        prefix = "t_ref_" + uuid.uuid4().hex[:6]
        ids, _ = seed(ports, prefix)
        counter = Killer(None)
        sweep(killing_ports(ports, counter), run_id="run-20000101T000000", page=page)
        _reference[backend.name] = {"state": normalised(snapshot(ports, ids), prefix), "ops": counter.count}
    reference = _reference[backend.name]
    prefix = "t_k_" + uuid.uuid4().hex[:6]
    ids, _ = seed(ports, prefix)
    run_id = f"run-{uuid.uuid4().int % 10**8:08d}T000000"
    at = 1 + int(kill_fraction * reference["ops"])
    with pytest.raises(Killed):
        sweep(killing_ports(ports, Killer(at)), run_id=run_id, page=page)
    report = sweep(killing_ports(ports, Killer(None)), run_id=run_id, page=page)
    assert report.complete
    assert normalised(snapshot(ports, ids), prefix) == reference["state"]
