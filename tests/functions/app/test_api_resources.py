"""What the API's users see: tokens (made once, used, revoked, scoped, last use), pages that
cost one bounded query whatever the collection's size, the profile change, a call's detail."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.accounts import tokens
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import TenantScope
from tests.functions.app.api_world import bearer


def test_a_token_made_from_the_session_works_until_revoked(app_client, ports, clock, business, signed_in):
    clock.advance(seconds=1)
    made = app_client.post("/api/v1/tokens", json={"name": "zapier", "scope": "read"},
                           headers={"X-CSRF-Token": signed_in})
    assert made.status_code == 201, made.text
    token = made.get_json()["token"]
    listed = app_client.get("/api/v1/tokens").get_json()["items"]
    assert [t["name"] for t in listed] == ["zapier"] and "token" not in listed[0]
    stored = repr([d.data for d in ports.store().query(Query("api_tokens"))])
    assert token not in stored and token[3:] not in stored  # a keyed hash only
    reader = bearer(token)
    assert app_client.get("/api/v1/me", headers=reader).get_json()["scopes"] == ["read"]
    assert app_client.patch("/api/v1/business", json={"name": "X"}, headers=reader).status_code == 403
    assert app_client.post("/api/v1/tokens", json={"name": "more"}, headers=reader).status_code == 403
    clock.advance(seconds=1)
    revoked = app_client.delete(f"/api/v1/tokens/{made.get_json()['id']}", headers={"X-CSRF-Token": signed_in})
    assert revoked.status_code == 204
    assert app_client.get("/api/v1/me", headers=reader).status_code == 401
    actions = [e["action"] for e in app_client.get("/api/v1/audit-log").get_json()["items"]]
    assert actions[:2] == ["api_token.revoked", "api_token.created"]


def test_a_write_token_cannot_make_tokens(app_client, seeded):
    a, _b = seeded
    reply = app_client.post("/api/v1/tokens", json={"name": "x", "scope": "write"},
                            headers=bearer(a.tokens[(Role.owner, "write")]))
    assert reply.status_code == 403


def test_a_removed_members_token_stops_at_once(app_client, seeded):
    a, _b = seeded
    staff = bearer(a.tokens[(Role.staff, "write")])
    assert app_client.get("/api/v1/calls", headers=staff).status_code == 200
    owner = bearer(a.tokens[(Role.owner, "write")])
    assert app_client.delete(f"/api/v1/members/{a.users[Role.staff]}", headers=owner).status_code == 204
    assert app_client.get("/api/v1/calls", headers=staff).status_code == 401


class Counting:
    """The store, counting reads and writes."""

    def __init__(self, store) -> None:
        self.store, self.gets, self.writes, self.queried = store, 0, 0, []

    def get(self, path):
        self.gets += 1
        return self.store.get(path)

    def query(self, query):
        found = self.store.query(query)
        self.queried.append(len(found))
        return found

    def batch(self):
        self.writes += 1
        return self.store.batch()

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_last_use_is_written_at_most_once_a_minute(ports, clock, seeded):
    a, _b = seeded
    counting = Counting(ports.store())
    pepper = ports.settings.secret("z3_api_token_pepper")
    token = a.tokens[(Role.viewer, "read")]
    for _ in range(5):
        assert tokens.authenticate(counting, clock.now(), pepper, token) is not None
    assert counting.gets == 10 and counting.writes == 1  # two reads a request; one write
    clock.advance(seconds=61)
    tokens.authenticate(counting, clock.now(), pepper, token)
    assert counting.writes == 2
    listed = tokens.list_for(ports.store(), a.tenant_id, a.users[Role.viewer])
    assert next(t for t in listed if t.scope == "read").last_used_at == clock.now()


@pytest.mark.parametrize("records", [1_000, 10_000])
def test_a_page_is_one_limited_query_whatever_the_size(app_client, ports, seeded, records):
    a, _b = seeded
    store, start = ports.store(), ports.clock().now()
    for first in range(0, records, 500):
        batch = store.batch()
        for i in range(first, min(first + 500, records)):
            sid = f"CA{i:032d}"
            batch.set(f"tenants/{a.tenant_id}/calls/{sid}",
                      {"call_sid": sid, "created_at": start - dt.timedelta(seconds=i)})
        batch.commit()
    counting = Counting(store)
    ports.provide(store=counting)
    headers = bearer(a.tokens[(Role.owner, "read")])
    first = app_client.get("/api/v1/calls?limit=25", headers=headers).get_json()
    second = app_client.get(f"/api/v1/calls?limit=25&cursor={first['next_cursor']}", headers=headers).get_json()
    assert counting.queried == [26, 26]  # one query per page, limit + 1 documents, at any size
    seen = [c["call_sid"] for c in first["items"] + second["items"]]
    assert len(set(seen)) == 50 and first["items"][-1]["created_at"] > second["items"][0]["created_at"]


def test_walking_the_cursor_returns_every_item_once_newest_first(app_client, ports, seeded):
    a, _b = seeded
    scope, start = TenantScope(ports.store(), a.tenant_id), ports.clock().now()
    for i in range(7):
        scope.set(f"messages/SM{i:032d}", {"id": f"SM{i:032d}", "direction": "inbound", "body": "hi",
                                           "created_at": start + dt.timedelta(minutes=i + 1)})
    headers, cursor, seen = bearer(a.tokens[(Role.viewer, "read")]), None, []
    while True:
        page = app_client.get("/api/v1/messages?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                              headers=headers).get_json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SM{i:032d}" for i in reversed(range(7))] + [a.message_id]


def test_the_profile_changes_for_managers_and_is_audited(app_client, clock, seeded):
    a, _b = seeded
    clock.advance(seconds=1)
    admin = bearer(a.tokens[(Role.admin, "write")])
    reply = app_client.patch("/api/v1/business", json={"name": "Sunrise Dental & Co", "time_zone": "America/Denver",
                                                       "address": {"city": "Boulder", "state": "CO"}}, headers=admin)
    assert reply.status_code == 200, reply.text
    body = reply.get_json()
    assert (body["name"], body["time_zone"], body["address"]["city"]) == ("Sunrise Dental & Co", "America/Denver",
                                                                         "Boulder")
    assert app_client.get("/api/v1/business", headers=bearer(a.tokens[(Role.viewer, "read")])).get_json()[
        "name"] == "Sunrise Dental & Co"
    entry = app_client.get("/api/v1/audit-log", headers=admin).get_json()["items"][0]
    assert entry["action"] == "business.updated" and entry["changes"]["name"] == ["Business a", "Sunrise Dental & Co"]
    assert app_client.patch("/api/v1/business", json={"nmae": "typo"}, headers=admin).status_code == 422


def test_a_call_in_detail_without_storage_paths_and_transcripts_by_role(app_client, seeded):
    a, _b = seeded
    staff = app_client.get(f"/api/v1/calls/{a.call_sid}", headers=bearer(a.tokens[(Role.staff, "read")])).get_json()
    assert staff["from"] == "+14155550161" and staff["duration"] == 42 and staff["transcript"].startswith("Agent:")
    assert staff["recording_files"][0]["duration"] == 40.0 and "blob_path" not in repr(staff)
    viewer = app_client.get(f"/api/v1/calls/{a.call_sid}", headers=bearer(a.tokens[(Role.viewer, "read")])).get_json()
    assert viewer["transcript"] is None and viewer["summary"] == "summary a"


def test_consent_history_with_its_chain_check(app_client, seeded):
    a, _b = seeded
    staff = bearer(a.tokens[(Role.staff, "read")])
    message = app_client.get("/api/v1/messages", headers=staff).get_json()["items"][0]
    assert message["number_id"] == a.number_id and "+1" not in a.number_id
    reply = app_client.get(f"/api/v1/numbers/{a.number_id}/consent", headers=staff).get_json()
    assert reply["state"] == "opted_in" and reply["chain"]["ok"] and reply["events"][0]["method"] == "verbal"
    assert reply["number"] == "+14155550161"
    assert app_client.get(f"/api/v1/numbers/{_b.number_id}/consent", headers=staff).status_code == 404
    assert app_client.get(f"/api/v1/numbers/{a.number_id}/consent", headers=bearer(a.tokens[(Role.viewer, "read")])
                          ).status_code == 403
    assert app_client.get("/api/v1/consent/%2B14155550161", headers=staff).status_code == 404  # no number in a URL
