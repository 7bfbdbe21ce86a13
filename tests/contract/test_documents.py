"""DocumentStore contract: the same behaviour on SQLite and on the Firestore emulator."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from shared.ports import AlreadyExists, Document, NotFound, Query

UTC = dt.timezone.utc


def test_get_set_roundtrip_keeps_types(ports):
    store = ports.store()
    when = dt.datetime(2026, 3, 5, 14, 30, 15, 123000, tzinfo=UTC)
    data = {"name": "Acme Plumbing", "count": 3, "ratio": 0.5, "ok": True, "none": None,
            "when": when, "tags": ["a", "b"], "nested": {"tz": "America/Denver", "list": [1, {"x": "y"}]},
            "weird": "@@not-a-tag", "history": [{"status": "ringing", "at": when}], "times": [when, "@@x"]}
    store.set("tenants/t1", data)
    assert store.get("tenants/t1") == data
    assert store.get("tenants/missing") is None


def test_repeated_reads_are_independent_copies(ports):
    """The same unchanged document read many times (a business's settings on every call): each
    read is its own object, tags decoded at any depth, and changing one read changes nothing
    else."""
    store = ports.store()
    when = dt.datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    data = {"at": when, "deep": {"list": [when, "@@s", {"at": when, "in": [when]}]}, "plain": "x"}
    store.set("tenants/t1", data)
    first = store.get("tenants/t1")
    assert first == data
    first["deep"]["list"][2]["at"] = "changed"
    first["at"] = None
    for _ in range(3):
        assert store.get("tenants/t1") == data
        assert store.get_many(["tenants/t1"])["tenants/t1"] == data


def test_a_list_inside_a_list_is_refused_before_writing(ports):
    store = ports.store()
    with pytest.raises(TypeError):
        store.set("tenants/t1", {"grid": [[1, 2], [3]]})
    assert store.get("tenants/t1") is None


def test_datetimes_come_back_in_utc(ports):
    store = ports.store()
    denver = dt.timezone(dt.timedelta(hours=-7))
    store.set("tenants/t1", {"at": dt.datetime(2026, 3, 5, 7, 0, tzinfo=denver)})
    got = store.get("tenants/t1")["at"]
    assert got == dt.datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
    assert got.utcoffset() == dt.timedelta(0)


def test_set_replaces_and_merge_merges_deeply(ports):
    store = ports.store()
    store.set("tenants/t1", {"a": 1, "m": {"x": 1, "y": 2}})
    store.set("tenants/t1", {"m": {"y": 3, "z": 4}}, merge=True)
    assert store.get("tenants/t1") == {"a": 1, "m": {"x": 1, "y": 3, "z": 4}}
    store.set("tenants/t1", {"b": 2})
    assert store.get("tenants/t1") == {"b": 2}


def test_create_is_create_if_absent(ports):
    store = ports.store()
    assert store.create("webhook_events/stripe:evt_1", {"n": 1}) is True
    assert store.create("webhook_events/stripe:evt_1", {"n": 2}) is False
    assert store.get("webhook_events/stripe:evt_1") == {"n": 1}


def test_update_merges_fields_and_requires_the_document(ports):
    store = ports.store()
    with pytest.raises(NotFound):
        store.update("tenants/nope", {"a": 1})
    assert store.get("tenants/nope") is None
    store.set("tenants/t1", {"a": 1, "settings": {"plan": "basic", "seats": 2}})
    store.update("tenants/t1", {"b": 2, "settings.plan": "pro"})
    assert store.get("tenants/t1") == {"a": 1, "b": 2, "settings": {"plan": "pro", "seats": 2}}


def test_delete_is_idempotent(ports):
    store = ports.store()
    store.set("tenants/t1", {"a": 1})
    store.delete("tenants/t1")
    store.delete("tenants/t1")
    assert store.get("tenants/t1") is None


def test_get_many(ports):
    store = ports.store()
    store.set("tenants/a", {"n": 1})
    store.set("tenants/b", {"n": 2})
    assert store.get_many(["tenants/a", "tenants/b", "tenants/c"]) == {
        "tenants/a": {"n": 1}, "tenants/b": {"n": 2}, "tenants/c": None}


def _seed_calls(store, tenant="t1"):
    base = dt.datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(10):
        store.set(f"tenants/{tenant}/calls/c{i:02d}", {
            "n": i, "status": "completed" if i % 2 else "missed", "started": base + dt.timedelta(hours=i),
            "tags": ["vip"] if i in (3, 7) else [], "caller": {"area": 303 if i < 5 else 720},
        })
    store.set(f"tenants/{tenant}/calls/nofield", {"status": "completed"})


def _ids(docs):
    return [d.id for d in docs]


def test_query_filters(ports):
    store = ports.store()
    _seed_calls(store)
    _seed_calls(store, "t2")  # another tenant's calls never show up
    calls = Query("tenants/t1/calls")
    assert _ids(store.query(calls.where("n", "==", 4))) == ["c04"]
    assert _ids(store.query(calls.where("n", ">=", 8))) == ["c08", "c09"]
    assert _ids(store.query(calls.where("n", "<", 2))) == ["c00", "c01"]
    assert _ids(store.query(calls.where("n", ">", 3).where("n", "<=", 5))) == ["c04", "c05"]
    assert _ids(store.query(calls.where("status", "in", ["missed"]).where("n", "<", 5).order_by("n"))) == [
        "c00", "c02", "c04"]
    assert _ids(store.query(calls.where("tags", "array-contains", "vip"))) == ["c03", "c07"]
    assert _ids(store.query(calls.where("caller.area", "==", 720).where("n", "<", 6))) == ["c05"]
    cutoff = dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert _ids(store.query(calls.where("started", ">", cutoff))) == ["c08", "c09"]
    # a document lacking the field is not matched by a comparison on it
    assert "nofield" not in _ids(store.query(calls.where("n", ">=", 0)))
    # type-strict: a string never equals a number
    assert store.query(calls.where("n", "==", "4")) == []


def test_query_order_limit_and_cursor(ports):
    store = ports.store()
    _seed_calls(store)
    q = Query("tenants/t1/calls").order_by("n", "desc")
    assert _ids(store.query(q.page(3))) == ["c09", "c08", "c07"]
    first = store.query(q.page(4))
    second = store.query(q.page(4, first[-1]))
    third = store.query(q.page(4, second[-1]))
    assert _ids(first + second + third) == [f"c{i:02d}" for i in range(9, -1, -1)]
    # ties on the ordered field are broken by id, stable across pages
    by_status = Query("tenants/t1/calls").where("n", ">=", 0).order_by("status").order_by("n")
    assert _ids(store.query(by_status)) == ["c01", "c03", "c05", "c07", "c09", "c00", "c02", "c04", "c06", "c08"]
    page = store.query(by_status.page(3))
    assert _ids(store.query(by_status.page(3, page[-1]))) == ["c07", "c09", "c00"]


def test_stream_pages_through_everything(ports):
    store = ports.store()
    batch = store.batch()
    for i in range(25):
        batch.set(f"tenants/t1/messages/m{i:03d}", {"i": i})
    batch.commit()
    got = list(store.stream(Query("tenants/t1/messages").order_by("i"), page_size=7))
    assert [d.get("i") for d in got] == list(range(25))
    assert all(isinstance(d, Document) for d in got)
    limited = list(store.stream(Query("tenants/t1/messages").order_by("i").page(10), page_size=4))
    assert len(limited) == 10


def test_transaction_commits_all_or_nothing(ports):
    store = ports.store()
    store.set("slots/s1", {"booked": False})

    def book(tx):
        slot = tx.get("slots/s1")
        if slot["booked"]:
            raise RuntimeError("taken")
        tx.update("slots/s1", {"booked": True})
        tx.create("bookings/b1", {"slot": "s1"})
        return "booked"

    assert store.transaction(book) == "booked"
    with pytest.raises(RuntimeError):
        store.transaction(book)
    assert store.get("bookings/b1") == {"slot": "s1"}

    def failing(tx):
        tx.set("slots/s2", {"booked": True})
        tx.create("bookings/b1", {"slot": "s2"})  # exists: the whole transaction fails

    with pytest.raises(AlreadyExists):
        store.transaction(failing)
    assert store.get("slots/s2") is None


def test_transaction_update_of_missing_document_fails(ports):
    store = ports.store()
    with pytest.raises(NotFound):
        store.transaction(lambda tx: tx.update("slots/none", {"booked": True}))


def test_concurrent_transactions_do_not_lose_increments(ports):
    store = ports.store()
    store.set("counters/c", {"n": 0})

    def incr(tx):
        n = tx.get("counters/c")["n"]
        tx.set("counters/c", {"n": n + 1})

    errors = []

    def worker():
        for _ in range(5):
            try:
                store.transaction(incr, attempts=30)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.get("counters/c") == {"n": 20}


def test_transaction_query(ports):
    store = ports.store()
    _seed_calls(store)
    found = store.transaction(lambda tx: _ids(tx.query(Query("tenants/t1/calls").where("n", "<", 2).order_by("n"))))
    assert found == ["c00", "c01"]


def test_batch_writes_and_deletes(ports):
    store = ports.store()
    store.set("tenants/t1/x/gone", {"a": 1})
    store.set("tenants/t1/x/upd", {"a": 1})
    batch = store.batch()
    batch.set("tenants/t1/x/new", {"a": 2})
    batch.update("tenants/t1/x/upd", {"b": 2})
    batch.delete("tenants/t1/x/gone")
    batch.commit()
    assert store.get("tenants/t1/x/new") == {"a": 2}
    assert store.get("tenants/t1/x/upd") == {"a": 1, "b": 2}
    assert store.get("tenants/t1/x/gone") is None


def test_batch_create_of_an_existing_document_writes_nothing(ports):
    store = ports.store()
    store.set("tenants/t1/x/taken", {"a": 1})
    batch = store.batch()
    batch.create("tenants/t1/x/taken", {"a": 2})
    batch.set("tenants/t1/x/other", {"b": 1})
    with pytest.raises(AlreadyExists):
        batch.commit()
    assert store.get("tenants/t1/x/taken") == {"a": 1}
    assert store.get("tenants/t1/x/other") is None


def test_list_collections(ports):
    store = ports.store()
    store.set("tenants/t1", {"name": "a"})
    store.set("tenants/t1/calls/c1", {"a": 1})
    store.set("tenants/t1/contacts/k1", {"a": 1})
    store.set("tenants/t10/calls/c1", {"a": 1})
    store.set("phone_numbers/+13035550100", {"tenant_id": "t1"})
    assert store.list_collections("tenants/t1") == ["calls", "contacts"]
    assert {"tenants", "phone_numbers"} <= set(store.list_collections())


def test_bad_paths_are_refused(ports):
    store = ports.store()
    with pytest.raises(ValueError):
        store.set("tenants", {"a": 1})
    with pytest.raises(ValueError):
        store.get("tenants//x")
