"""stripe_events through functions-framework, with events signed by the Stripe SDK's helper,
re-fetching from the Stripe sandbox through the real SDK."""

from __future__ import annotations

import json
import random
import time

import pytest

from shared.billing.records import RECORD
from tests.functions.billing.support import comparable, lifecycle, post_event


def record(business):
    return business.get(RECORD)


def test_the_lifecycle_in_order_with_duplicates_ends_canceled(client, settings, business, ports, stripe_sandbox):
    ids = lifecycle(ports, stripe_sandbox, business.tenant_id)
    events = stripe_sandbox.take_events(duplicate=True)
    results = [post_event(client, stripe_sandbox, e) for e in events]
    assert {r.status_code for r in results} == {200}
    assert sorted({r.get_json()["result"] for r in results}) == ["applied", "duplicate"]
    doc = record(business)
    assert (doc["status"], doc["subscription_id"], doc["customer_id"], doc["plan"]) == (
        "canceled", ids["subscription"], ids["customer"], "starter")
    assert (doc["card"]["brand"], doc["card"]["last4"], doc["card"]["exp_month"], doc["card"]["exp_year"]) == (
        "visa", "1881", 11, 2031)
    assert doc["card"]["address"]["postal_code"] == "80202" and doc["past_due_since"] is None
    invoices = {d.id: d.data for d in business.query(business.collection("invoices"))}
    assert len(invoices) == 2 and invoices[ids["failed_invoice"]]["status"] == "paid"
    assert invoices[ids["failed_invoice"]]["hosted_invoice_url"].startswith("https://invoice.stripe.com/")
    assert ports.store().get(f"tenants/{business.tenant_id}")["status"] == "suspended"  # canceled: no service


def test_shuffled_and_duplicated_events_end_in_the_same_record(client, settings, business, ports, stripe_sandbox):
    lifecycle(ports, stripe_sandbox, business.tenant_id)
    events = stripe_sandbox.take_events()
    for event in events:
        assert post_event(client, stripe_sandbox, event).status_code == 200
    expected = comparable(record(business))
    rng = random.Random(13)
    for _ in range(3):
        # a new delivery of every event (new ids: Stripe's resends of the same facts), shuffled
        replay = [{**e, "id": e["id"] + f"r{rng.randrange(10**6)}"} for e in events for _ in range(2)]
        rng.shuffle(replay)
        for event in replay:
            assert post_event(client, stripe_sandbox, event).status_code == 200
        assert comparable(record(business)) == expected


def test_an_old_past_due_event_after_the_payment_leaves_the_business_active(client, settings, business, ports,
                                                                             stripe_sandbox):
    from shared.billing import services

    sub = stripe_sandbox.complete_checkout(services.create_checkout_session(ports, business.tenant_id, "pro")["id"])
    failed = stripe_sandbox.renew(sub["id"], fail=True)
    stripe_sandbox.pay_invoice(failed["id"])
    events = stripe_sandbox.take_events()
    for event in reversed(events):  # newest first: the past_due update arrives last
        assert post_event(client, stripe_sandbox, event).status_code == 200
    doc = record(business)
    assert doc["status"] == "active" and doc["plan"] == "pro" and doc["past_due_since"] is None
    assert ports.store().get(f"tenants/{business.tenant_id}")["status"] == "active"


def test_forged_stale_and_missing_signatures_are_refused_and_nothing_is_stored(client, settings, business, ports,
                                                                               stripe_sandbox):
    from shared.billing import services

    stripe_sandbox.complete_checkout(services.create_checkout_session(ports, business.tenant_id, "starter")["id"])
    event = stripe_sandbox.take_events()[1]  # customer.subscription.created
    forged = stripe_sandbox.signed(event)[1]["Stripe-Signature"].replace("v1=", "v1=0")
    assert post_event(client, stripe_sandbox, event, signature=forged).status_code == 403
    assert post_event(client, stripe_sandbox, event, timestamp=int(time.time()) - 301).status_code == 403
    assert post_event(client, stripe_sandbox, event, signature="").status_code == 403
    body, headers = stripe_sandbox.signed(event)
    tampered = body.replace(b'"trialing"', b'"active"')
    assert client("stripe_events").post("/", data=tampered, headers=headers).status_code == 403
    assert record(business).get("subscription_id") is None
    assert ports.store().get(f"webhook_events/stripe:{event['id']}") is None
    assert post_event(client, stripe_sandbox, event, timestamp=int(time.time()) - 240).status_code == 200


@pytest.mark.parametrize("body", [{"object": "event"}, {"id": "evt_1", "type": "invoice.paid"},
                                  {"id": "evt_1", "type": "invoice.paid", "data": []}, [1, 2]])
def test_signed_bodies_that_are_not_events_are_400(client, settings, business, stripe_sandbox, body):
    import stripe

    raw = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(raw, "whsec_test_billing_sandbox_secret")
    response = client("stripe_events").post("/", data=raw, headers={"Stripe-Signature": header,
                                                                     "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]


def test_unknown_types_and_customers_are_acknowledged(client, settings, business, stripe_sandbox):
    unknown = stripe_sandbox.emit("price.created", {"id": "price_1", "object": "price"})
    assert post_event(client, stripe_sandbox, unknown).get_json() == {"result": "ignored"}
    stranger = stripe_sandbox.emit("customer.subscription.updated", {"id": "sub_x", "customer": "cus_other"})
    assert post_event(client, stripe_sandbox, stranger).get_json() == {"result": "unknown_customer"}


def test_stripe_or_the_store_down_answers_503_and_the_retry_applies_it(client, settings, business, ports,
                                                                       stripe_sandbox):
    from shared.billing import services

    stripe_sandbox.complete_checkout(services.create_checkout_session(ports, business.tenant_id, "starter")["id"])
    event = stripe_sandbox.take_events()[1]
    stripe_sandbox.down = True
    assert post_event(client, stripe_sandbox, event).status_code == 503
    stripe_sandbox.down = False
    assert ports.store().get(f"webhook_events/stripe:{event['id']}") is None  # the claim was released
    from tests.functions.voice.support import DownStore

    real = ports.store()
    ports.provide(store=DownStore())
    try:
        assert post_event(client, stripe_sandbox, event).status_code == 503
    finally:
        ports.provide(store=real)
    assert post_event(client, stripe_sandbox, event).get_json() == {"result": "applied"}
    assert record(business)["status"] == "trialing"
