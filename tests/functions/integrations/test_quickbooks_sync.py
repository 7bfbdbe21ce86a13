"""``quickbooks_sync`` and ``quickbooks_webhook`` against the loopback Intuit: customers and
invoices land in the right company once, SyncToken conflicts and throttling are survived, edits
made in QuickBooks reach our contacts, and one tenant's QuickBooks data never reaches another."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest

from shared.integrations import connections
from shared.notifications import NotifyRequest
from shared.providers import intuit as intuit_provider
from shared.quickbooks import connect, sync, tasks as qbo_tasks
from shared.scheduling.appointments import Appointment
from shared.tenants import TenantScope
from shared.voice.contacts import lookup_contact, save_contact
from tests.functions.agent.support import tasks
from tests.functions.integrations.conftest import OTHER, TENANT
from tests.functions.local import worker_headers
from tools.sandboxes.intuit import sign_webhook

PHONE = "+13035550142"


def _connect(client, ports, intuit, tenant=TENANT, company=None):
    url = connect.start(ports, tenant_id=tenant, user_id="u_owner", binding=connections.operator_binding())
    query = intuit.approve(url, company=company or tenant)
    assert client("oauth_callback").get("/?" + urlencode(query)).status_code == 200
    return intuit.companies[query["realmId"]]


def _appointment(ports, clock, tenant=TENANT, *, appointment_id="a_1", name="Jordan Lee", phone=PHONE, ended=True):
    start = clock.now() - dt.timedelta(hours=2) if ended else clock.now() + dt.timedelta(days=1)
    appointment = Appointment(id=appointment_id, start=start, end=start + dt.timedelta(hours=1),
                              time_zone="America/Denver", label="Monday, March 2 at 6:00 AM", slot_key="k",
                              customer_name=name, customer_phone=phone, reason="Leaking faucet",
                              booking_key=f"bk-{appointment_id}", created_at=start - dt.timedelta(days=1))
    TenantScope(ports.store(), tenant).set(f"appointments/{appointment_id}", appointment.to_doc())
    return appointment


def _post_task(client, tenant, kind, appointment_id="a_1"):
    body = qbo_tasks.SyncRequest(tenant_id=tenant, kind=kind, appointment_id=appointment_id).to_bytes()
    return client("quickbooks_sync").post("/", data=body, headers=worker_headers("quickbooks_sync", body))


def test_a_booked_caller_becomes_one_customer_and_the_done_appointment_one_invoice(client, ports, clock, intuit,
                                                                                     businesses):
    company = _connect(client, ports, intuit)
    _appointment(ports, clock)
    first = _post_task(client, TENANT, "customer")
    assert first.status_code == 200 and first.json["result"] == "synced"
    assert _post_task(client, TENANT, "customer").json["customer_id"] == first.json["customer_id"]
    [customer] = company.customers.values()
    assert customer["DisplayName"] == "Jordan Lee" and customer["PrimaryPhone"]["FreeFormNumber"] == PHONE
    contact = lookup_contact(businesses[0], PHONE)
    assert contact["quickbooks"]["customer_id"] == customer["Id"]
    invoice = _post_task(client, TENANT, "invoice")
    assert invoice.status_code == 200 and invoice.json["result"] == "synced"
    # a lost write on our side (crash after Intuit answered): Intuit's requestid makes it one invoice
    businesses[0].delete("quickbooks_invoices/a_1")
    assert _post_task(client, TENANT, "invoice").json["invoice_id"] == invoice.json["invoice_id"]
    [bill] = company.invoices.values()
    assert bill["CustomerRef"]["value"] == customer["Id"]
    assert bill["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "1"  # "Services"


def test_an_appointment_not_yet_done_is_retried_later(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    _appointment(ports, clock, ended=False)
    assert _post_task(client, TENANT, "invoice").status_code == 503
    assert company.invoices == {}


def test_the_chosen_service_item_and_rate_are_billed(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    ports.store().update(connections.connection_path(TENANT, "quickbooks"), {"details.item_id": "2",
                                                                             "details.rate": 120.0})
    _appointment(ports, clock)
    assert _post_task(client, TENANT, "invoice").status_code == 200
    [bill] = company.invoices.values()
    assert bill["TotalAmt"] == 120.0 and bill["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "2"


def test_display_names_are_made_unique_and_matches_use_the_phone(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    company.customers["7"] = {"Id": "7", "DisplayName": "Jordan Lee", "SyncToken": "0",
                              "PrimaryPhone": {"FreeFormNumber": "+12065550199"}}
    _appointment(ports, clock)
    created = _post_task(client, TENANT, "customer").json["customer_id"]
    assert created != "7" and company.customers[created]["DisplayName"] == "Jordan Lee (…0142)"
    # the same caller on a fresh contact record is found by name + phone, not created again
    businesses[0].delete(f"contacts/{PHONE}")
    assert _post_task(client, TENANT, "customer").json["customer_id"] == created
    assert len(company.customers) == 2


def test_a_stale_sync_token_re_reads_and_retries_once(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    company.customers["7"] = {"Id": "7", "DisplayName": "Jordan Lee", "SyncToken": "3"}  # no phone yet
    save_contact(businesses[0], PHONE, "Jordan Lee", clock.now(), quickbooks={"customer_id": "7"})
    _appointment(ports, clock)
    intuit.race_next_update(company.realm_id, "7")
    assert _post_task(client, TENANT, "customer").json["customer_id"] == "7"
    customer = company.customers["7"]
    assert customer["PrimaryPhone"]["FreeFormNumber"] == PHONE and customer["Notes"] == "edited in QuickBooks"
    assert customer["SyncToken"] == "5"  # their edit, then our sparse update on the re-read token
    assert [r for r in intuit.requests if r == ("POST", "customer")] == [("POST", "customer")] * 2


def test_throttling_is_retried_with_backoff_then_left_to_the_queue(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    appointment = _appointment(ports, clock)
    pauses = []
    intuit.throttle(2)
    assert sync.sync_customer(ports, TENANT, appointment, sleep=pauses.append)
    assert pauses == [0.5, 1.0] and len(company.customers) == 1
    intuit.throttle(100)
    businesses[0].delete(f"contacts/{PHONE}")
    with pytest.raises(intuit_provider.IntuitUnavailable):
        sync.sync_customer(ports, TENANT, _appointment(ports, clock, appointment_id="a_2", name="Pat Doe",
                                                       phone="+13035550111"), sleep=pauses.append)
    assert pauses[2:] == [0.5, 1.0, 2.0]
    intuit.throttle(100)
    sync.BACKOFF, saved = (0.0,), sync.BACKOFF
    try:
        assert _post_task(client, TENANT, "customer", "a_2").status_code == 503
    finally:
        sync.BACKOFF = saved


def test_a_permanent_refusal_is_reported_to_the_business(client, ports, clock, intuit, businesses):
    _connect(client, ports, intuit)
    ports.store().update(connections.connection_path(TENANT, "quickbooks"), {"details.item_id": "999"})
    _appointment(ports, clock)
    response = _post_task(client, TENANT, "invoice")
    assert response.status_code == 200 and response.json["result"] == "refused"
    failure = businesses[0].get("quickbooks_sync_failures/a_1")
    assert failure["kind"] == "invoice" and failure["code"] == "2500"
    [request] = [NotifyRequest.from_bytes(body) for _name, body in tasks(ports.settings, "notify")]
    assert request.template == "integration_sync_failed" and request.tenant_id == TENANT


def test_a_refused_change_pull_is_reported_not_retried(client, ports, intuit, businesses, monkeypatch):
    """A change pull names no appointment: Intuit refusing it for good answers 200 (no retry that
    cannot succeed) and leaves one "changes" failure record."""
    _connect(client, ports, intuit)

    def refused(self, method, path, **kwargs):
        raise intuit_provider.IntuitError(400, "4001")

    monkeypatch.setattr(intuit_provider.Accounting, "request", refused)
    response = _post_task(client, TENANT, "changes", appointment_id="")
    assert response.status_code == 200 and response.json["result"] == "refused", response.text
    failure = businesses[0].get("quickbooks_sync_failures/changes")
    assert failure["kind"] == "changes" and failure["code"] == "4001" and failure["appointment_id"] == ""


def test_one_tenants_quickbooks_data_never_reaches_another(client, ports, clock, intuit, businesses):
    mine = _connect(client, ports, intuit, TENANT)
    theirs = _connect(client, ports, intuit, OTHER)
    _appointment(ports, clock, TENANT)
    _appointment(ports, clock, OTHER, name="Riley Chen", phone="+12125550177")
    assert _post_task(client, TENANT, "invoice").status_code == 200
    assert _post_task(client, OTHER, "invoice").status_code == 200
    assert [c["DisplayName"] for c in mine.customers.values()] == ["Jordan Lee"]
    assert [c["DisplayName"] for c in theirs.customers.values()] == ["Riley Chen"]
    assert len(mine.invoices) == len(theirs.invoices) == 1
    assert lookup_contact(businesses[1], PHONE) is None
    # OTHER's token cannot open TENANT's company even if it asked for it
    token = connections.tokens(ports, OTHER, "quickbooks").access_token
    with pytest.raises(intuit_provider.IntuitError) as refused:
        intuit_provider.Accounting(ports.settings, mine.realm_id, token).query("select * from Customer")
    assert refused.value.status == 403


def _hook(client, payload, *, secret=None, settings=None):
    raw = json.dumps(payload).encode()
    signature = sign_webhook(secret or settings.secret("intuit_verifier_token"), raw)
    return client("quickbooks_webhook").post("/", data=raw, headers={"intuit-signature": signature,
                                                                       "Content-Type": "application/json"})


def _legacy(realm, customer_id, when="2026-03-02T15:00:00.000Z"):
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": [
        {"name": "Customer", "id": customer_id, "operation": "Update", "lastUpdated": when}]}}]}


def _cloudevents(realm, customer_id, event_id="evt-1"):
    return [{"specversion": "1.0", "id": event_id, "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58a",
             "type": "qbo.customer.updated.v1", "datacontenttype": "application/json", "time": "2026-03-02T15:00:00Z",
             "intuitentityid": customer_id, "intuitaccountid": realm, "data": {}}]


def test_webhooks_forged_or_malformed_are_refused(client, settings, ports, intuit, businesses):
    assert _hook(client, _legacy("1", "1"), secret="not-the-verifier-token").status_code == 403
    unsigned = client("quickbooks_webhook").post("/", data=b"{}", headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 403
    assert _hook(client, {"something": "else"}, settings=settings).status_code == 400
    assert _hook(client, [{"type": "qbo.customer.updated.v1"}], settings=settings).status_code == 400


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_an_edit_in_quickbooks_reaches_our_contact(fmt, client, settings, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    _appointment(ports, clock)
    customer_id = _post_task(client, TENANT, "customer").json["customer_id"]
    clock.advance(minutes=1)
    intuit.edit_customer(company.realm_id, customer_id, DisplayName="Jordan Lee-Park",
                         PrimaryEmailAddr={"Address": "jordan@example.com"})
    payload = _legacy(company.realm_id, customer_id) if fmt == "legacy" else _cloudevents(company.realm_id, customer_id)
    first = _hook(client, payload, settings=settings)
    assert first.status_code == 200 and first.json == {"customer_changes": 1, "queued": 1}
    assert _hook(client, payload, settings=settings).json["queued"] == 0  # a redelivery
    [(_name, body)] = tasks(ports.settings, "quickbooks_sync")[-1:]
    assert client("quickbooks_sync").post("/", data=body, headers=worker_headers("quickbooks_sync", body)).json[
        "updated"] == 1
    contact = lookup_contact(businesses[0], PHONE)
    assert contact["name"] == "Jordan Lee-Park" and contact["email"] == "jordan@example.com"
    assert lookup_contact(businesses[1], PHONE) is None


def test_disconnect_inside_quickbooks(client, ports, clock, intuit, businesses):
    company = _connect(client, ports, intuit)
    _connect(client, ports, intuit, OTHER)
    assert client("quickbooks_webhook").get(f"/?realmId={company.realm_id}").status_code == 200
    assert connections.live(ports, TENANT, "quickbooks")  # a forged notice changes nothing
    intuit.revoke_all(company.realm_id)
    assert client("quickbooks_webhook").get(f"/?realmId={company.realm_id}").status_code == 200
    stored = ports.store().get(connections.connection_path(TENANT, "quickbooks"))
    assert stored["status"] == "disconnected" and stored["tokens_sealed"] is None
    assert connections.live(ports, OTHER, "quickbooks")["status"] == "connected"
    assert client("quickbooks_webhook").get("/?realmId=abc").status_code == 400


def test_call_completed_queues_the_customer_and_the_invoice_once(client, ports, clock, intuit, businesses):
    appointment = _appointment(ports, clock)
    assert qbo_tasks.queue_for_appointments(ports, TENANT, [appointment]) == 0  # not connected
    _connect(client, ports, intuit)
    assert qbo_tasks.queue_for_appointments(ports, TENANT, [appointment]) == 2
    assert qbo_tasks.queue_for_appointments(ports, TENANT, [appointment]) == 0
