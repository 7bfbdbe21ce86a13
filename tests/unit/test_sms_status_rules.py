"""Delivery status merging: never backwards, the same final state in any order."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shared.sms.messages import STATUS_RANK, apply_status

T0 = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)
STATUSES = sorted(set(STATUS_RANK) - {"blocked"}) + ["some_new_status"]


def play(reports):
    doc = None
    for i, (status, code) in enumerate(reports):
        doc = {**(doc or {}), **apply_status(doc, status, at=T0 + dt.timedelta(seconds=i), error_code=code)}
    return doc


def test_forward_only():
    doc = play([("queued", None), ("sent", None), ("delivered", None), ("sent", None), ("queued", None)])
    assert doc["status"] == "delivered" and doc["terminal"]


def test_failure_keeps_its_error_code():
    doc = play([("queued", None), ("undelivered", "30006"), ("sent", None)])
    assert doc["status"] == "undelivered" and doc["error_code"] == "30006"


def test_conflicting_codes_for_one_status_resolve_the_same_way_in_any_order():
    one = play([("undelivered", "30003"), ("undelivered", "30006")])
    other = play([("undelivered", "30006"), ("undelivered", "30003")])
    assert one["error_code"] == other["error_code"] == "30006"


def test_unknown_statuses_are_kept_but_never_win():
    doc = play([("sent", None), ("some_new_status", None)])
    assert doc["status"] == "sent" and "some_new_status" in doc["statuses"]


@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from([None, "30003", "30006"])), min_size=1, max_size=8),
       st.randoms())
def test_any_order_and_duplicates_give_the_same_final_state(reports, rnd):
    shuffled = list(reports) + list(reports[: len(reports) // 2])
    rnd.shuffle(shuffled)
    a, b = play(reports), play(shuffled)
    assert a["status"] == b["status"] and a["error_code"] == b["error_code"]
    known = [s for s, _ in reports if s in STATUS_RANK]
    if known:
        assert a["status"] == max(known, key=lambda s: (STATUS_RANK[s], s))
