"""``scripts/ops calls|messages|appointments|users list``: newest first, ``--limit`` rows, read
as one limited page from the store (never the whole collection)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared import runtime
from shared.tenants import TenantScope, add_user, create_tenant
from tools import ops

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


class CountingStore:
    """The real store, noting each query it runs."""

    def __init__(self, store) -> None:
        self._store, self.queries = store, []

    def query(self, query):
        self.queries.append(query)
        return self._store.query(query)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def scope(ports):
    store = CountingStore(ports.store())
    ports.provide(store=store)
    runtime.use(ports)
    create_tenant(store, tenant_id="t_ops", name="Sunrise Plumbing", contact_name="Dana",
                  contact_email="dana@sunrise.example", numbers=["+13035550100"])
    yield TenantScope(store, "t_ops")
    runtime.reset()


def test_calls_list_is_newest_first_and_one_page(scope, capsys):
    for i in range(5):
        sid = f"CA{i:032d}"
        scope.set(f"calls/{sid}", {"call_sid": sid, "from": f"+1303555014{i}", "route": "ai", "status": "completed",
                                   "created_at": T0 + dt.timedelta(minutes=i), "summary": f"call number {i}"})
    scope.store.queries.clear()
    assert ops.main(["calls", "list", "--tenant", "t_ops", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "CA" + "0" * 31 + "4" in lines[1] and "+13035550144" in lines[1]
    assert "call number 3" in lines[2]
    [query] = [q for q in scope.store.queries if q.collection.endswith("/calls")]
    assert query.limit == 2 and query.order[0].direction == "desc"


def test_calls_show_prints_the_record(scope, capsys):
    sid = "CA" + "7" * 32
    scope.set(f"calls/{sid}", {"call_sid": sid, "route": "voicemail", "created_at": T0})
    assert ops.main(["calls", "show", "--tenant", "t_ops", sid]) == 0
    assert json.loads(capsys.readouterr().out)["route"] == "voicemail"


def test_messages_list_shows_direction_and_body(scope, capsys):
    scope.set("messages/SM1", {"id": "SM1", "direction": "inbound", "from": "+13035550142", "to": "+13035550100",
                               "body": "Is Tuesday ok?", "status": "received", "created_at": T0})
    scope.set("messages/SM2", {"id": "SM2", "direction": "outbound", "from": "+13035550100", "to": "+13035550142",
                               "body": "Yes, see you", "status": "delivered", "created_at": T0 + dt.timedelta(seconds=5)})
    assert ops.main(["messages", "list", "--tenant", "t_ops"]) == 0
    _header, first, second = capsys.readouterr().out.splitlines()
    assert "out" in first and "Yes, see you" in first and "in " in second and "Is Tuesday ok?" in second
    assert all(q.limit == 50 for q in scope.store.queries if q.collection.endswith("/messages"))


def test_appointments_list_latest_start_first(scope, capsys):
    for day in (3, 5):
        start = T0 + dt.timedelta(days=day)
        scope.set(f"appointments/a{day}", {
            "id": f"a{day}", "start": start, "end": start + dt.timedelta(hours=1), "time_zone": "America/Denver",
            "label": "x", "slot_key": str(day), "customer_name": f"Customer {day}", "booking_key": str(day),
            "created_at": T0})
    assert ops.main(["appointments", "list", "--tenant", "t_ops", "--json"]) == 0
    assert [a["customer_name"] for a in json.loads(capsys.readouterr().out)] == ["Customer 5", "Customer 3"]


def test_users_list_never_shows_a_password_hash(scope, capsys):
    add_user(scope.store, "t_ops", email="sam@sunrise.example", name="Sam", password_hash="$argon2id$secret")
    assert ops.main(["users", "list", "--tenant", "t_ops", "--json"]) == 0
    out = capsys.readouterr().out
    assert "sam@sunrise.example" in out and "argon2id" not in out and "password_hash" not in out
    assert ops.main(["user", "list", "--tenant", "t_ops"]) == 0
    assert "sam@sunrise.example" in capsys.readouterr().out
