"""billing_usage (meter events once per billable call), the grace period, the dunning emails,
and the overview/portal services, against the Stripe sandbox through the real SDK."""

from __future__ import annotations

import json

from shared.billing import services
from shared.billing.grace import GraceCheck
from shared.voice.events import CallCompleted
from tests.functions.billing.support import post_event
from tests.functions.local import worker_headers


def _subscribe(ports, business, sandbox, client):
    sub = sandbox.complete_checkout(services.create_checkout_session(ports, business.tenant_id, "starter")["id"])
    for event in sandbox.take_events():
        assert post_event(client, sandbox, event).status_code == 200
    return sub


def _deliver_call(client, ports, business, call_sid: str, **call):
    from shared.events import push_body

    business.set(f"calls/{call_sid}", {"call_sid": call_sid, **call})
    message = CallCompleted(tenant_id=business.tenant_id, call_sid=call_sid, completed_at=ports.clock().now())
    body = json.dumps(push_body(project="z3-local", topic="call.completed", subscription="s", data=message.to_bytes(),
                                attributes={"z3_topic": "call.completed"}, message_id=f"m-{call_sid}",
                                publish_time="2026-03-02T18:00:00Z")).encode()
    headers = worker_headers("billing_usage", body, {
        "ce-id": f"m-{call_sid}", "ce-specversion": "1.0", "ce-source": "//pubsub", "ce-type":
        "google.cloud.pubsub.topic.v1.messagePublished"})
    return client("billing_usage").post("/", data=body, headers=headers)


def test_meter_events_once_per_billable_call_and_none_for_the_others(client, settings, business, ports,
                                                                      stripe_sandbox):
    _subscribe(ports, business, stripe_sandbox, client)
    ai = {"route": "ai", "retell_call_id": "call_1", "retell_duration_ms": 125_000}
    for _ in range(3):  # redelivered
        assert _deliver_call(client, ports, business, "CA1", **ai).status_code == 200
    assert _deliver_call(client, ports, business, "CA2", **{**ai, "retell_duration_ms": 9_000}).status_code == 200
    assert _deliver_call(client, ports, business, "CA3", route="rejected", route_reason="blocked_caller").status_code == 200
    assert _deliver_call(client, ports, business, "CA4", route="voicemail", duration=60).status_code == 200
    assert list(stripe_sandbox.meter_events) == ["z3-call-CA1"]
    assert stripe_sandbox.meter_events["z3-call-CA1"]["payload"]["value"] == "3"  # 125 s -> 3 minutes
    assert stripe_sandbox.meter_event_posts == 1  # the redeliveries found the usage reported
    reasons = {d.id: d.data["reason"] for d in business.query(business.collection("usage"))}
    assert reasons == {"CA1": "billable", "CA2": "too_short", "CA3": "blocked_caller", "CA4": "not_ai"}
    assert services.billing_overview(ports, business.tenant_id)["usage"]["billable_minutes"] == 3
    from shared.billing.usage import credit_spam

    assert credit_spam(ports, business.tenant_id, "CA1") == "credited"
    assert stripe_sandbox.meter_events == {} and stripe_sandbox.adjustments[0]["cancel"]["identifier"] == "z3-call-CA1"


def test_past_due_keeps_service_for_the_grace_period_then_suspends_and_paying_restores(
        client, settings, business, ports, stripe_sandbox, clock):
    from shared.adapters.local.db import database

    sub = _subscribe(ports, business, stripe_sandbox, client)
    failed = stripe_sandbox.renew(sub["id"], fail=True)
    for event in stripe_sandbox.take_events():
        assert post_event(client, stripe_sandbox, event).status_code == 200
    tenant = lambda: ports.store().get(f"tenants/{business.tenant_id}")  # noqa: E731
    assert tenant()["status"] == "active"
    view = services.billing_overview(ports, business.tenant_id)
    assert view["status"] == "past_due" and "Service continues until" in view["banner"]
    rows = database(settings.z3_data_dir).read("SELECT target, body FROM tasks")
    notify = [json.loads(b) for t, b in rows if t == "notify"]
    failed_mail = [n for n in notify if n["context"]["kind"] == "payment_failed"]
    assert len(failed_mail) == 1 and failed_mail[0]["context"]["action_url"] == failed["hosted_invoice_url"]
    [(_, grace_body)] = [r for r in rows if r[0] == "billing_grace"]
    early = client("billing_grace").post("/", data=grace_body, headers=worker_headers("billing_grace", grace_body))
    assert early.status_code == 503 and tenant()["status"] == "active"
    clock.advance(days=7, seconds=1)
    due = client("billing_grace").post("/", data=grace_body, headers=worker_headers("billing_grace", grace_body))
    assert due.get_json() == {"result": "suspended"} and tenant()["status"] == "suspended"
    stripe_sandbox.pay_invoice(failed["id"])
    for event in stripe_sandbox.take_events():
        assert post_event(client, stripe_sandbox, event).status_code == 200
    assert tenant()["status"] == "active"
    kinds = [json.loads(b)["context"].get("kind") for t, b in database(settings.z3_data_dir).read(
        "SELECT target, body FROM tasks") if t == "notify"]
    assert kinds.count("suspended") == 1 and kinds.count("restored") == 1 and kinds.count("payment_failed") == 1
    assert GraceCheck.from_bytes(grace_body).tenant_id == business.tenant_id


def test_an_operator_suspension_is_not_lifted_by_a_payment(client, settings, business, ports, stripe_sandbox):
    from shared.models.tenant import TenantStatus
    from shared.tenants import set_status

    sub = _subscribe(ports, business, stripe_sandbox, client)
    set_status(ports.store(), business.tenant_id, TenantStatus.suspended, "abuse")
    stripe_sandbox.renew(sub["id"])
    for event in stripe_sandbox.take_events():
        assert post_event(client, stripe_sandbox, event).status_code == 200
    assert ports.store().get(f"tenants/{business.tenant_id}")["status_reason"] == "abuse"


def test_overview_portal_and_deletion(client, settings, business, ports, stripe_sandbox):
    _subscribe(ports, business, stripe_sandbox, client)
    view = services.billing_overview(ports, business.tenant_id)
    assert (view["plan"]["id"], view["status"], view["card"]["last4"], len(view["invoices"])) == (
        "starter", "trialing", "4242", 1)
    assert services.create_portal_session(ports, business.tenant_id)["url"].startswith("https://billing.stripe.com/")
    customer = business.get("billing/record")["customer_id"]
    assert services.delete_customer(ports, business.tenant_id) is True
    assert customer not in stripe_sandbox.objects["customer"]
    assert len(business.query(business.collection("invoices"))) == 1  # our history stays
    assert services.delete_customer(ports, business.tenant_id) is False
