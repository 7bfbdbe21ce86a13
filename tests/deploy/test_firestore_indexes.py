"""The index rule of tests/deploy/firestore_indexes.py, and that the session check would catch
a query without its index."""

from __future__ import annotations

from shared.config import Settings
from shared.ports import Query
from shared.runtime import Ports
from tests.deploy.firestore_indexes import RECORDED, load_indexes, needs_index, product_shapes, shape, unindexed

CALLS = "tenants/t1/calls"


def test_one_field_queries_need_no_composite_index():
    assert not needs_index(shape(Query(CALLS).where("start", ">=", 1).where("start", "<", 2).order_by("start")))
    assert not needs_index(shape(Query("tenants").order_by("created_at", "desc")))
    assert not needs_index(shape(Query(CALLS).where("status", "==", "done").where("route", "==", "ai")))


def test_equality_beside_an_order_needs_one_and_the_file_must_have_it():
    query = Query(CALLS).where("status", "==", "done").order_by("started_at", "desc")
    assert needs_index(shape(query))
    assert unindexed([shape(query)], []) == [shape(query)]
    index = {"collectionGroup": "calls", "queryScope": "COLLECTION",
             "fields": [{"fieldPath": "status", "order": "ASCENDING"},
                        {"fieldPath": "started_at", "order": "DESCENDING"}]}
    assert unindexed([shape(query)], [index]) == []
    reversed_direction = {**index, "fields": [index["fields"][0], {"fieldPath": "started_at", "order": "ASCENDING"}]}
    assert unindexed([shape(query)], [reversed_direction]) == [shape(query)]


def test_an_inequality_on_another_field_than_the_order_needs_one():
    assert needs_index(shape(Query(CALLS).where("duration", ">", 5).order_by("started_at")))


def test_the_recorder_sees_the_queries_the_store_runs(tmp_path):
    from shared.adapters.local.db import forget

    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data"))
    query = Query("tenants/t-rec/recorded").where("status", "==", "x").order_by("started_at")
    try:
        ports.store().query(query)
        # tests/conftest.py installed the recorder; a test's own query is not the product's
        assert RECORDED[shape(query)] == "tests/deploy/test_firestore_indexes.py"
        assert shape(query) not in product_shapes()
        from shared.tenants import TenantScope, users

        users(TenantScope(ports.store(), "t-rec"))
        assert any(s.collection_group == "users" for s in product_shapes())
    finally:
        RECORDED.pop(shape(query), None)
        ports.close()
        forget(tmp_path / "data")


def test_the_index_file_has_no_index_nothing_needs():
    for index in load_indexes():
        assert len(index["fields"]) >= 2, index
