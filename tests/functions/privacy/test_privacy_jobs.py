"""Privacy requests end to end on the embedded backend: recorded (by an operator), verified
(which acknowledges and queues the job), carried out by ``privacy_jobs`` through
functions-framework; every state change in the audit log and emailed to the requester; the SLA
dates and the one extension; nothing released or erased before verification."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.accounts import audit
from shared.adapters.local.db import database
from shared.privacy import requests
from shared.privacy.erase import certificate
from shared.tenants import TenantScope, create_tenant
from tests.functions.local import worker_headers

TENANT, CALLER, OTHER = "t_priv", "+17205550121", "+17205550122"


@pytest.fixture
def business(ports):
    store = ports.store()
    create_tenant(store, tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana",
                  contact_email="dana@sunrise.example", numbers=["+13035550100"])
    scope = TenantScope(store, TENANT)
    now = ports.clock().now()
    for n, caller in enumerate([CALLER, OTHER]):
        scope.set(f"calls/CA{n}", {"call_sid": f"CA{n}", "from": caller, "created_at": now, "transcript": "hi"})
        scope.set(f"messages/SM{n}", {"from": caller, "body": "hello", "expire_at": now})
        scope.set(f"contacts/{caller}", {"name": "Pat", "phone": caller})
    return scope


def tasks(ports, target: str) -> list[tuple[str, dict]]:
    rows = database(ports.settings.z3_data_dir).read("SELECT name, target, body FROM tasks")
    return [(name, json.loads(body)) for name, t, body in rows if t == target]


def post_job(client, body: bytes):
    return client("privacy_jobs").post("/", data=body, headers=worker_headers("privacy_jobs", body))


def test_a_caller_deletion_request_runs_once_verified(client, ports, business):
    made = requests.create(ports, tenant_id=TENANT, kind="delete", number=CALLER, email="pat@example.com",
                           by="ops@z3")
    assert made.status == "received" and made.data["request_type"] == "deletion"
    with pytest.raises(requests.NotVerified):
        requests.run(ports, TENANT, made.id)
    assert business.get("calls/CA0") is not None  # nothing erased before verification
    requests.verify(ports, TENANT, made.id, by="ops@z3", method="reply from the caller's number")
    [(name, body)] = tasks(ports, "privacy_jobs")
    response = post_job(client, json.dumps(body).encode())
    assert response.status_code == 200 and response.get_json()["status"] == "completed"
    assert business.get("calls/CA0") is None and business.get(f"contacts/{CALLER}") is None
    assert business.get("messages/SM0") is None and business.get("calls/CA1") is not None
    done = requests.get(ports, TENANT, made.id)
    cert = certificate(ports.store(), done.data["result"]["certificate"])
    assert "privacy_requests" not in cert.deleted  # the request's own record is kept
    assert cert.deleted["calls"] == 1 and CALLER not in json.dumps(cert.to_doc(), default=str)
    again = post_job(client, json.dumps(body).encode())  # the queue delivers twice: a no-op
    assert again.status_code == 200 and again.get_json()["status"] == "completed"
    emails = [b for _n, b in tasks(ports, "notify") if b["template"] == "privacy_request_update"]
    assert [e["context"]["status"] for e in emails] == ["received", "acknowledged", "in_progress", "completed"]
    assert {e["to_email"] for e in emails} == {"pat@example.com"}
    actions = [a["action"] for a in audit.latest(ports.store(), TENANT)]
    assert {"privacy_request.received", "privacy_request.acknowledged", "privacy_request.completed"} <= set(actions)


def test_an_export_request_emails_the_download_link(client, ports, business):
    made = requests.create(ports, tenant_id=TENANT, kind="export", by="ops@z3")
    requests.verify(ports, TENANT, made.id, by="owner", method="signed-in owner with 2FA")
    [(_name, body)] = tasks(ports, "privacy_jobs")
    assert post_job(client, json.dumps(body).encode()).get_json()["status"] == "completed"
    done = requests.get(ports, TENANT, made.id)
    assert done.data["result"]["counts"]["calls"] == 2
    assert ports.blobs().stat(f"tenants/{TENANT}/exports/{made.id}.zip") is not None
    [completed] = [b for _n, b in tasks(ports, "notify") if b["context"].get("status") == "completed"]
    assert completed["context"]["download_url"].endswith(f"/app/privacy/exports/{made.id}")
    assert completed["to_email"] == "dana@sunrise.example"


def test_the_sla_dates_the_overdue_check_and_one_extension(ports, business, clock):
    clock.current = dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.timezone.utc)  # a Friday
    made = requests.create(ports, tenant_id=TENANT, kind="know", by="ops@z3")
    assert made.data["acknowledge_by"] == dt.datetime(2026, 3, 20, 15, 0, tzinfo=dt.timezone.utc)  # 10 business days
    assert made.data["complete_by"] == clock.current + dt.timedelta(days=45)
    assert requests.overdue(ports) == []
    clock.advance(days=15)
    [(tid, late, what)] = requests.overdue(ports)
    assert (tid, late.id, what) == (TENANT, made.id, ["acknowledgement"])
    extended = requests.extend(ports, TENANT, made.id, days=30, reason="the account holds years of calls", by="ops")
    assert extended.due() == made.data["complete_by"] + dt.timedelta(days=30)
    with pytest.raises(requests.RequestError, match="once at most"):
        requests.extend(ports, TENANT, made.id, days=10, reason="more", by="ops")
    clock.advance(days=80)
    assert "completion" in requests.overdue(ports)[0][2]


def test_a_forged_call_and_a_bad_body_are_refused(client, ports, business):
    assert client("privacy_jobs").post("/", data=b"{}", headers={"Content-Type": "application/json"}).status_code == 403
    response = post_job(client, b'{"tenant_id": "../x", "request_id": "pr"}')
    assert response.status_code == 400 and "privacy job" in response.get_data(as_text=True)
    response = post_job(client, json.dumps({"tenant_id": TENANT, "request_id": "pr_nothing"}).encode())
    assert response.status_code == 400 and "no such privacy request" in response.get_data(as_text=True)
