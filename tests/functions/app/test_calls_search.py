"""The calls list as a business reads it (GET /api/v1/calls, POST /api/v1/calls/search): filters
by date, route, outcome and recording, search in transcripts and summaries (in a body: search
words are often a name), at a bounded cost; and the writers of the call record keep the index it
searches in the same write."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.models.tenant import Role
from shared.tenants import TenantScope
from shared.voice.calls import RecordingEntry, add_recording, append_action
from shared.voice.listing import listing_fields
from tests.functions.app.api_world import bearer
from tests.functions.app.test_api_resources import Counting


def put_call(scope: TenantScope, sid: str, at: dt.datetime, **fields):
    doc = {"call_sid": sid, "created_at": at, "status": "completed", **fields}
    scope.set(f"calls/{sid}", {**doc, **listing_fields(doc)})


def search(client, headers, **body):
    return client.post("/api/v1/calls/search", json=body, headers=headers)


def sids(reply) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [c["call_sid"] for c in reply.get_json()["items"]]


@pytest.fixture
def day(ports, seeded):
    a, _b = seeded
    scope, start = TenantScope(ports.store(), a.tenant_id), ports.clock().now()
    put_call(scope, "CA1", start - dt.timedelta(hours=1), route="ai", transcript="Agent: Hello. User: I need a crown "
             "replaced, my molar cracked.", summary="Caller booked a crown appointment.",
             action_log=[{"at": start, "text": "AI booked a crown", "key": "book:ap_1"}])
    put_call(scope, "CA2", start - dt.timedelta(hours=2), route="voicemail", caller_name="Maria Lopez",
             recordings=[{"recording_sid": "RE2", "source": "twilio", "blob_path": "r/2.wav", "size": 1,
                                      "sha256": "0" * 64, "stored_at": start}], **{"from": "+16025550111"})
    put_call(scope, "CA3", start - dt.timedelta(days=3), route="forward", status="no-answer",
             summary="Molar pain, wants a call back")
    put_call(scope, "CA4", start - dt.timedelta(hours=3), route="rejected")
    return a, start


def test_filters_by_route_outcome_recording_and_date(app_client, day):
    a, start = day
    owner = bearer(a.tokens[(Role.owner, "read")])
    get = lambda q: sids(app_client.get("/api/v1/calls?" + q, headers=owner))  # noqa: E731
    assert get("route=voicemail") == ["CA2"]
    assert get("outcome=booked") == ["CA1"]
    assert get("outcome=missed") == ["CA3"]
    assert get("outcome=rejected&route=rejected") == ["CA4"]
    assert get("has_recording=true") == ["CA2"]
    since = (start - dt.timedelta(days=1)).isoformat().replace("+", "%2B")
    assert get(f"since={since}&route=forward") == []
    assert get(f"since={since}") == [a.call_sid, "CA1", "CA2", "CA4"]
    assert app_client.get("/api/v1/calls?route=martian", headers=owner).status_code == 422
    assert app_client.get("/api/v1/calls?since=2026-03-01T00:00:00", headers=owner).status_code == 422


def test_search_finds_words_of_transcripts_and_summaries_all_words_anded(app_client, day):
    a, _start = day
    owner = bearer(a.tokens[(Role.owner, "read")])
    assert sids(search(app_client, owner, q="molar")) == ["CA1", "CA3"]
    assert sids(search(app_client, owner, q="Molar CRACKED")) == ["CA1"]
    assert sids(search(app_client, owner, q="molar", outcome="missed")) == ["CA3"]
    assert sids(search(app_client, owner, q="lopez")) == ["CA2"]  # the caller's name
    assert sids(search(app_client, owner, q="dentures")) == []


def test_search_words_never_travel_in_a_url(app_client, day):
    """GET /calls used to take ?q=: it is refused now (a search is often a name), not ignored."""
    a, _start = day
    owner = bearer(a.tokens[(Role.owner, "read")])
    for query in ("q=molar", "caller=lopez", "outcome=booked&q=crown"):
        reply = app_client.get("/api/v1/calls?" + query, headers=owner)
        assert reply.status_code == 422 and "POST /calls/search" in reply.get_json()["error"]["message"], query


def test_a_viewer_cannot_search_transcripts_it_may_not_read(app_client, day):
    a, _start = day
    viewer = bearer(a.tokens[(Role.viewer, "read")])
    assert search(app_client, viewer, q="molar").status_code == 403
    assert sids(search(app_client, viewer, caller="Maria Lopez")) == ["CA2"]  # the caller is not a transcript
    assert sids(app_client.get("/api/v1/calls?outcome=booked", headers=viewer)) == ["CA1"]


def test_another_business_never_sees_these_calls(app_client, day, seeded):
    _a, b = seeded
    assert sids(search(app_client, bearer(b.tokens[(Role.owner, "read")]), q="molar")) == []


@pytest.mark.parametrize("calls", [1_000, 10_000])
def test_a_search_page_reads_a_bounded_number_of_documents(app_client, ports, seeded, calls):
    a, _b = seeded
    store, start = ports.store(), ports.clock().now()
    for first in range(0, calls, 500):
        batch = store.batch()
        for i in range(first, min(first + 500, calls)):
            doc = {"call_sid": f"CA{i:032d}", "created_at": start - dt.timedelta(seconds=i), "status": "completed",
                   "summary": "crown" if i % (calls // 20) == 0 else "cleaning"}
            batch.set(f"tenants/{a.tenant_id}/calls/CA{i:032d}", {**doc, **listing_fields(doc)})
        batch.commit()
    counting = Counting(store)
    ports.provide(store=counting)
    owner = bearer(a.tokens[(Role.owner, "read")])
    first = search(app_client, owner, limit=5, q="crown").get_json()
    second = search(app_client, owner, limit=5, q="crown", cursor=first["next_cursor"]).get_json()
    assert counting.queried == [6, 6]  # the index answers: limit + 1 documents, whatever the size
    assert [c["call_sid"] for c in first["items"] + second["items"]] == [f"CA{i:032d}" for i in range(0, calls // 2, calls // 20)]
    # a sparse residual filter (words of the index AND a route none has) stops after a bounded scan
    counting.queried.clear()
    sparse = search(app_client, owner, limit=5, q="cleaning", route="ivr").get_json()
    assert sparse["items"] == [] and sparse["next_cursor"] and sum(counting.queried) == 4 * 6


def test_the_call_writers_keep_the_index_in_the_same_write(ports, seeded):
    a, _b = seeded
    scope, now = TenantScope(ports.store(), a.tenant_id), ports.clock().now()
    append_action(scope, "CA9", "AI booked a cleaning", now, key="book:ap_9")
    add_recording(scope, "CA9", RecordingEntry(recording_sid="RE9", source="twilio", blob_path="r/x.wav", size=1,
                                               sha256="0" * 64, stored_at=now))
    doc = scope.get("calls/CA9")
    assert doc["outcome"] == "booked" and doc["has_recording"] is True
    assert {"o:booked", "rec:1"} <= set(doc["terms"])
