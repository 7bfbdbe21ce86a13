"""``/api/v1/billing`` through the app function, the real Stripe SDK and the Stripe sandbox: an
owner subscribes on Stripe's Checkout page, Stripe's signed events reach ``stripe_events``, and
the overview shows the plan, the card's facts (never its number), usage and the invoice."""

from __future__ import annotations

from shared.models.tenant import Role
from shared.pii.cards import find_card_number
from tests.functions.app.api_world import bearer, world
from tests.functions.billing.support import post_event


def test_an_owner_subscribes_then_sees_plan_card_and_invoice_then_opens_the_portal(app_client, client, ports,
                                                                                   stripe_sandbox):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    before = app_client.get("/api/v1/billing", headers=owner).get_json()
    assert (before["subscribed"], before["status"], before["card"], before["invoices"]) == (False, "none", None, [])

    reply = app_client.post("/api/v1/billing/checkout", json={"plan": "starter"}, headers=owner)
    assert reply.status_code == 200, reply.text
    session = reply.get_json()
    assert session["id"].startswith("cs_") and session["url"].startswith("https://")
    stripe_sandbox.complete_checkout(session["id"], last4="4242", exp_month=8, exp_year=2030)
    for event in stripe_sandbox.take_events():
        assert post_event(client, stripe_sandbox, event).status_code == 200

    overview = app_client.get("/api/v1/billing", headers=owner)
    body = overview.get_json()
    # a first subscription starts on the trial (Z3_BILLING_TRIAL_DAYS)
    assert (body["subscribed"], body["status"], body["plan"]["id"]) == (True, "trialing", "starter")
    assert body["trial_end"] is not None and body["banner"] is None
    assert (body["card"]["brand"], body["card"]["last4"], body["card"]["exp_month"]) == ("visa", "4242", 8)
    assert [i["status"] for i in body["invoices"]] == ["paid"]
    assert body["invoices"][0]["hosted_invoice_url"].startswith("https://")
    assert body["usage"]["included_minutes"] == 200 and body["usage"]["billable_minutes"] == 0
    assert not find_card_number(overview.get_data(as_text=True))

    portal = app_client.post("/api/v1/billing/portal", headers=owner)
    assert portal.status_code == 200, portal.text
    assert portal.get_json()["url"].startswith("https://")


def test_an_unverified_owner_cannot_start_billing(app_client, ports):
    a, _b = world(ports)
    ports.store().update(f"tenants/{a.tenant_id}/users/{a.users[Role.owner]}", {"email_verified_at": None})
    reply = app_client.post("/api/v1/billing/checkout", json={"plan": "starter"},
                            headers=bearer(a.tokens[(Role.owner, "write")]))
    assert reply.status_code == 403
    assert reply.get_json()["error"]["message"].startswith("Confirm your email address first")


def test_an_unknown_plan_is_422_and_the_portal_before_subscribing_is_409(app_client, ports):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    reply = app_client.post("/api/v1/billing/checkout", json={"plan": "platinum"}, headers=owner)
    assert reply.status_code == 422 and "starter" in reply.get_json()["error"]["message"]
    reply = app_client.post("/api/v1/billing/portal", headers=owner)
    assert reply.status_code == 409 and "subscribe" in reply.get_json()["error"]["message"]


def test_admins_see_no_billing(app_client, ports):
    a, _b = world(ports)
    admin = bearer(a.tokens[(Role.admin, "write")])
    assert app_client.get("/api/v1/billing", headers=admin).status_code == 403
    assert app_client.post("/api/v1/billing/checkout", json={"plan": "pro"}, headers=admin).status_code == 403
