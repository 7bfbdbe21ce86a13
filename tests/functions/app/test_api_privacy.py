"""``/api/v1/privacy-requests`` through the app function: an owner's request about one of their
callers is acknowledged at once (the signed-in owner is the verified requester) and its
``privacy_jobs`` task is queued; only owners make requests, managers read them; bad input is a
422 with the reason, never a 500; the number travels in the body, never in a URL."""

from __future__ import annotations

import json

from shared.models.tenant import Role
from tests.functions.app.api_world import bearer, world


def _queued_jobs(settings) -> list[dict]:
    from shared.adapters.local.db import database

    rows = database(settings.z3_data_dir).read("SELECT body FROM tasks WHERE target = 'privacy_jobs'")
    return [json.loads(bytes(body)) for (body,) in rows]


def test_an_owner_asks_to_delete_a_callers_data_and_the_job_is_queued(app_client, ports, settings):
    a, _b = world(ports)
    reply = app_client.post("/api/v1/privacy-requests", json={"kind": "delete", "number": a.number},
                            headers=bearer(a.tokens[(Role.owner, "write")]))
    assert reply.status_code == 200, reply.text
    made = reply.get_json()
    assert (made["kind"], made["subject"], made["status"]) == ("delete", "caller", "acknowledged")
    assert [h["status"] for h in made["history"]] == ["received", "acknowledged"]
    assert made["acknowledge_by"] > made["received_at"] and made["complete_by"] > made["acknowledge_by"]
    assert any(job.get("request_id") == made["id"] for job in _queued_jobs(settings))
    assert a.number not in json.dumps(made)  # the answer does not echo the caller's number

    admin = bearer(a.tokens[(Role.admin, "write")])
    shown = app_client.get(f"/api/v1/privacy-requests/{made['id']}", headers=admin)
    assert shown.status_code == 200 and shown.get_json()["status"] == "acknowledged"
    assert app_client.post("/api/v1/privacy-requests", json={"kind": "export"}, headers=admin).status_code == 403


def test_bad_requests_are_422_with_the_reason(app_client, ports):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    not_a_number = app_client.post("/api/v1/privacy-requests", json={"kind": "delete", "number": "abc"},
                                   headers=owner)
    assert not_a_number.status_code == 422
    child_without_number = app_client.post("/api/v1/privacy-requests", json={"kind": "delete", "child": True},
                                           headers=owner)
    assert child_without_number.status_code == 422
    assert "child" in child_without_number.get_json()["error"]["message"]
