"""The embedded store serves a list ordered by ``created_at`` (the calls page, its filters, the
token search) from its index, as Firestore does: no sort of the whole collection, so a page
costs the same at any size (``scripts/bench app`` measures it)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.adapters.local.db import database
from shared.adapters.local.documents import compile_query
from shared.ports import Query

CALLS = Query("tenants/t_1/calls").order_by("created_at", "desc")
SINCE = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("query", [
    CALLS.page(26),
    CALLS.where("terms", "array-contains", "w:molar").page(26),
    Query("tenants/t_1/calls").where("route", "==", "ai").where("created_at", ">=", SINCE)
    .order_by("created_at", "desc").page(26),
])
def test_a_page_ordered_by_creation_is_read_in_index_order(tmp_path, query):
    conn = database(tmp_path).connection()
    sql, params = compile_query(query)
    plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "docs_created_at" in plan and "TEMP B-TREE" not in plan, plan
