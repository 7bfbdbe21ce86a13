"""``/api/v1/integrations`` and ``/api/v1/crm/endpoints`` through the app function, with the real
intuit-oauth and Google clients against the loopback Intuit and Google sandboxes, the real
``oauth_callback`` function, and the loopback CRM receiver: a signed-in owner connects
QuickBooks (the state works once, only with that session), sees it connected (never a token),
disconnects it (revoked at Intuit, tokens deleted, the audit log names who; Intuit down -> 503
and nothing deleted); CRM endpoints are added with their secret shown once, refused on a
private address outside development, and a test event reaches the receiver, signed."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from shared.accounts import audit
from shared.integrations import connections
from shared.models.tenant import Role
from shared.ports import FixedClock
from tests.functions.app.api_world import bearer, world
from tests.functions.app.conftest import add_member, csrf_of, sign_in


@pytest.fixture
def clock():
    """Real time: the CRM receiver checks the signature's timestamp against its own clock."""
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


def _session(app_client) -> str:
    return app_client.get_cookie("z3_session").value


def _connect(app_client, csrf: str, provider: str = "quickbooks", **extra):
    return app_client.post("/api/v1/integrations/connect", json={"provider": provider, **extra},
                           headers={"X-CSRF-Token": csrf})


def _callback(client, query: dict, cookie: str | None):
    browser = client("oauth_callback")
    if cookie:
        browser.set_cookie("z3_session", cookie)
    else:
        browser.delete_cookie("z3_session")
    return browser.get("/?" + urlencode(query))


def _status(app_client, provider: str, headers: dict | None = None) -> dict:
    reply = app_client.get("/api/v1/integrations", headers=headers or {})
    assert reply.status_code == 200, reply.text
    return next(item for item in reply.get_json()["items"] if item["provider"] == provider)


def _connected_quickbooks(app_client, client, intuit, csrf: str) -> str:
    url = _connect(app_client, csrf).get_json()["authorize_url"]
    query = intuit.approve(url)
    assert _callback(client, query, _session(app_client)).status_code == 303
    return query["realmId"]


def test_connect_answers_an_authorize_url_whose_state_works_once_and_only_in_this_session(
        app_client, client, ports, intuit, business, signed_in):
    reply = _connect(app_client, signed_in)
    assert reply.status_code == 200, reply.text
    body = reply.get_json()
    args = parse_qs(urlsplit(body["authorize_url"]).query)
    assert body["authorize_url"].startswith(intuit.url)
    assert args["redirect_uri"] == ["https://z3.example/oauth_callback"]
    assert args["scope"] == ["com.intuit.quickbooks.accounting"] and len(args["state"][0]) >= 40
    assert body["expires_at"] is not None
    query = intuit.approve(body["authorize_url"])

    assert _callback(client, query, None).status_code == 403  # no session: refused (and the state is spent)
    query = intuit.approve(_connect(app_client, signed_in).get_json()["authorize_url"])
    back = _callback(client, query, _session(app_client))
    assert back.status_code == 303
    assert back.headers["Location"] == "https://z3.example/app/settings/integrations?connected=quickbooks"
    assert _callback(client, query, _session(app_client)).status_code == 403  # a state works once

    status = _status(app_client, "quickbooks")
    assert (status["status"], status["connected_by"], status["account"]) == (
        "connected", business.owner_id, f"Company {query['realmId']}")
    tokens = connections.tokens(ports, business.tenant_id, "quickbooks")
    listing = app_client.get("/api/v1/integrations").get_data(as_text=True)
    assert tokens.access_token not in listing and tokens.refresh_token not in listing
    assert "tokens_sealed" not in listing and "refresh_lock" not in listing


def test_another_members_session_cannot_finish_the_flow(app_client, client, ports, intuit, business, signed_in):
    add_member(ports, business, "admin@sunrise.example", Role.admin)
    query = intuit.approve(_connect(app_client, signed_in).get_json()["authorize_url"])
    other_browser = app_client.application.test_client()  # the same app, another browser
    assert sign_in(other_browser, "admin@sunrise.example").status_code == 302
    assert _callback(client, query, _session(other_browser)).status_code == 403
    assert connections.get(ports, business.tenant_id, "quickbooks") is None


def test_a_token_caller_is_told_to_connect_from_the_dashboard(app_client, ports):
    a, _b = world(ports)
    reply = app_client.post("/api/v1/integrations/connect", json={"provider": "google_calendar"},
                            headers=bearer(a.tokens[(Role.owner, "write")]))
    assert reply.status_code == 409
    assert "dashboard" in reply.get_json()["error"]["message"]


def test_staff_and_viewers_see_no_integrations_and_admins_do(app_client, ports):
    a, _b = world(ports)
    for role in (Role.staff, Role.viewer):
        assert app_client.get("/api/v1/integrations", headers=bearer(a.tokens[(role, "write")])).status_code == 403
        assert app_client.get("/api/v1/crm/endpoints", headers=bearer(a.tokens[(role, "write")])).status_code == 403
    admin = bearer(a.tokens[(Role.admin, "write")])
    assert _status(app_client, "quickbooks", admin)["status"] == "connected"
    assert _status(app_client, "google_calendar", admin)["status"] == "never"
    failures = app_client.get("/api/v1/integrations/quickbooks/failures", headers=admin).get_json()
    assert [(f["appointment_id"], f["code"]) for f in failures["items"]] == [(a.failed_appointment_id, "6000")]
    assert _status(app_client, "quickbooks", admin)["last_error"]["code"] == "6000"


def test_disconnect_revokes_at_intuit_deletes_the_tokens_and_audits_who(app_client, client, ports, clock, intuit,
                                                                       business, signed_in):
    realm = _connected_quickbooks(app_client, client, intuit, signed_in)
    assert intuit.live_refresh_tokens() == 1
    clock.advance(seconds=1)
    reply = app_client.delete("/api/v1/integrations/quickbooks", headers={"X-CSRF-Token": signed_in})
    assert reply.status_code == 204, reply.text
    assert intuit.revoked == [realm] and intuit.live_refresh_tokens() == 0
    stored = ports.store().get(connections.connection_path(business.tenant_id, "quickbooks"))
    assert (stored["status"], stored["tokens_sealed"], stored["disconnected_by"]) == (
        "disconnected", None, business.owner_id)
    entry = audit.latest(ports.store(), business.tenant_id)[0]
    assert (entry["action"], entry["actor_user_id"], entry["changes"]) == (
        "integration.disconnected", business.owner_id, {"reason": "settings"})
    status = _status(app_client, "quickbooks")
    assert (status["status"], status["disconnected_by"], status["disconnect_reason"]) == (
        "disconnected", business.owner_id, "settings")
    again = app_client.delete("/api/v1/integrations/quickbooks", headers={"X-CSRF-Token": signed_in})
    assert again.status_code == 404
    assert app_client.delete("/api/v1/integrations/xero", headers={"X-CSRF-Token": signed_in}).status_code == 404


def test_intuit_down_is_503_and_nothing_is_deleted(app_client, client, ports, intuit, business, signed_in, settings):
    _connected_quickbooks(app_client, client, intuit, signed_in)
    intuit.stop()
    try:
        reply = app_client.delete("/api/v1/integrations/quickbooks", headers={"X-CSRF-Token": signed_in})
        assert reply.status_code == 503 and reply.headers["Retry-After"]
    finally:
        intuit.start(port=int(settings.intuit_api_base_url.rsplit(":", 1)[1]))
    assert connections.live(ports, business.tenant_id, "quickbooks")["tokens_sealed"]
    assert intuit.live_refresh_tokens() == 1
    assert "integration.disconnected" not in [e["action"] for e in audit.latest(ports.store(), business.tenant_id)]


def test_the_invoice_item_is_chosen_among_the_companys_services_and_needs_quickbooks(
        app_client, client, ports, intuit, business, signed_in, settings):
    _connected_quickbooks(app_client, client, intuit, signed_in)
    headers = {"X-CSRF-Token": signed_in}
    items = app_client.get("/api/v1/integrations/quickbooks/items").get_json()["items"]
    assert items == [{"id": "2", "name": "Consultation", "unit_price": 85.0},
                     {"id": "1", "name": "Services", "unit_price": 0.0}]  # asked of the company, by name
    reply = app_client.put("/api/v1/integrations/quickbooks/item", json={"item_id": "2", "rate": 95.5}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert (reply.get_json()["item_id"], reply.get_json()["rate"]) == ("2", 95.5)
    assert connections.get(ports, business.tenant_id, "quickbooks")["details"] == {"item_id": "2", "rate": 95.5}
    [entry] = [e for e in audit.latest(ports.store(), business.tenant_id)
               if e["action"] == "integration.quickbooks_item"]
    assert (entry["actor_user_id"], entry["changes"]) == (business.owner_id, {"item_id": "2", "rate": 95.5})
    for body, field in (({"item_id": "Services", "rate": 1}, "item_id"), ({"item_id": "2", "rate": 1e9}, "rate"),
                        ({"item_id": "77", "rate": 1}, "item_id")):  # 77: no such item in the company
        refused = app_client.put("/api/v1/integrations/quickbooks/item", json=body, headers=headers)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["message"], refused.text
    assert connections.get(ports, business.tenant_id, "quickbooks")["details"]["item_id"] == "2"
    intuit.stop()
    try:
        down = app_client.put("/api/v1/integrations/quickbooks/item", json={"item_id": "1", "rate": 1}, headers=headers)
        assert down.status_code == 503
        assert app_client.get("/api/v1/integrations/quickbooks/items").status_code == 503
        page = app_client.get("/settings/integrations")  # the page asks for the number instead
        assert page.status_code == 200 and "QuickBooks item id" in page.text
    finally:
        intuit.start(port=int(settings.intuit_api_base_url.rsplit(":", 1)[1]))
    assert 'name="item_id" required' in app_client.get("/settings/integrations").text  # the menu again
    a, b = world(ports)
    not_connected = app_client.put("/api/v1/integrations/quickbooks/item", json={"item_id": "2", "rate": 1},
                                   headers=bearer(b.tokens[(Role.owner, "write")]))
    assert not_connected.status_code == 409
    assert app_client.get("/api/v1/integrations/quickbooks/items",
                          headers=bearer(b.tokens[(Role.owner, "write")])).status_code == 409


def test_google_calendar_connects_syncs_and_disconnects(app_client, client, ports, google, business, signed_in):
    reply = _connect(app_client, signed_in, "google_calendar")
    assert reply.status_code == 200, reply.text
    query = google.approve(reply.get_json()["authorize_url"], email="owner@sunrise.example")
    assert _callback(client, query, _session(app_client)).status_code == 303
    status = _status(app_client, "google_calendar")
    assert (status["status"], status["calendar_id"]) == ("connected", "owner@sunrise.example")
    synced = app_client.post("/api/v1/integrations/google_calendar/sync", headers={"X-CSRF-Token": signed_in})
    assert synced.status_code == 200 and synced.get_json() == {"synced": 0, "failed": 0}
    refused = _connect(app_client, signed_in, "quickbooks", calendar_id="primary")
    assert refused.status_code == 422 and "calendar_id" in refused.get_json()["error"]["message"]
    assert app_client.delete("/api/v1/integrations/google_calendar", headers={"X-CSRF-Token": signed_in}
                             ).status_code == 204
    assert _status(app_client, "google_calendar")["status"] == "disconnected"
    after = app_client.post("/api/v1/integrations/google_calendar/sync", headers={"X-CSRF-Token": signed_in})
    assert after.status_code == 409


def test_a_calendar_the_account_may_not_add_events_to_is_refused_and_the_page_says_why(
        app_client, client, ports, google, business, signed_in):
    google.share_calendar("owner@sunrise.example", "team-holidays@group.calendar.google.com", "Team holidays")
    reply = _connect(app_client, signed_in, "google_calendar", calendar_id="team-holidays@group.calendar.google.com")
    query = google.approve(reply.get_json()["authorize_url"], email="owner@sunrise.example")
    back = _callback(client, query, _session(app_client))
    assert back.status_code == 303
    assert back.headers["Location"].endswith("/settings/integrations?declined=google_calendar&why=calendar")
    assert connections.get(ports, business.tenant_id, "google_calendar") is None
    page = app_client.get("/settings/integrations?declined=google_calendar&why=calendar")
    assert "Google Calendar was not connected: this Google account may not add events to that calendar" in page.text
    mine = _connect(app_client, signed_in, "google_calendar", calendar_id="owner@sunrise.example")
    query = google.approve(mine.get_json()["authorize_url"], email="owner@sunrise.example")
    assert _callback(client, query, _session(app_client)).headers["Location"].endswith("connected=google_calendar")


# --- CRM endpoints -------------------------------------------------------------------------------

def test_an_endpoint_is_added_with_its_secret_shown_once_and_a_test_event_reaches_the_receiver(
        app_client, ports, receiver):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    url = receiver.url + receiver.hook("sunrise")
    reply = app_client.post("/api/v1/crm/endpoints", json={"url": url, "events": ["appointment.booked"],
                                                            "description": "HubSpot"}, headers=owner)
    assert reply.status_code == 201, reply.text
    created = reply.get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["enabled"] and created["events"] == ["appointment.booked"]
    receiver.use_secret("sunrise", secret)
    listing = app_client.get("/api/v1/crm/endpoints", headers=owner)
    assert secret not in listing.get_data(as_text=True)
    assert created["id"] in [e["id"] for e in listing.get_json()["items"]]
    stored = ports.store().get(f"tenants/{a.tenant_id}/crm_endpoints/{created['id']}")
    assert secret not in json.dumps(stored, default=str)

    tested = app_client.post(f"/api/v1/crm/endpoints/{created['id']}/test", headers=owner)
    assert tested.status_code == 200, tested.text
    assert (tested.get_json()["status"], tested.get_json()["last_status_code"]) == ("delivered", 204)
    [event] = receiver.events("sunrise")
    assert event["type"] == "webhook.test" and event["tenant_id"] == a.tenant_id
    assert receiver.received[0].verified
    log = app_client.get(f"/api/v1/crm/endpoints/{created['id']}/deliveries", headers=owner).get_json()
    assert [(d["event_type"], d["status"], d["last_status_code"]) for d in log["items"]] == [
        ("webhook.test", "delivered", 204)]


def test_a_retried_add_with_its_request_id_makes_no_second_endpoint_or_secret(app_client, ports):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    before = len(app_client.get("/api/v1/crm/endpoints", headers=owner).get_json()["items"])
    body = {"url": "http://127.0.0.1:9/retried", "events": ["call.completed"], "request_id": "retry-key-0000000001"}
    first = app_client.post("/api/v1/crm/endpoints", json=body, headers=owner).get_json()
    again = app_client.post("/api/v1/crm/endpoints", json=body, headers=owner)
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    assert first["secret"].startswith("whsec_") and again.get_json()["secret"] is None
    assert len(app_client.get("/api/v1/crm/endpoints", headers=owner).get_json()["items"]) == before + 1
    added = [e for e in audit.latest(ports.store(), a.tenant_id) if e["action"] == "crm_endpoint.added"]
    assert [e["target"] for e in added].count(first["id"]) == 1


def test_a_failing_test_event_is_reported_and_logged(app_client, ports):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    tested = app_client.post(f"/api/v1/crm/endpoints/{a.crm_endpoint_id}/test", headers=owner)
    assert tested.status_code == 200 and tested.get_json()["status"] == "failed"
    assert tested.get_json()["last_status_code"] is None  # nothing listens on the seeded port
    log = app_client.get(f"/api/v1/crm/endpoints/{a.crm_endpoint_id}/deliveries?limit=1", headers=owner).get_json()
    assert log["items"][0]["status"] == "failed" and log["items"][0]["last_error"]


def test_a_private_or_loopback_url_is_refused_outside_development(app_client, ports, monkeypatch):
    from shared.crm import setup

    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    monkeypatch.setattr(setup, "development", lambda _ports: False)
    for url in ("https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://169.254.169.254/computeMetadata/v1",
                "http://crm.example.com/hook", "https://metadata.google.internal/"):
        reply = app_client.post("/api/v1/crm/endpoints", json={"url": url, "events": ["call.completed"]}, headers=owner)
        assert reply.status_code == 422, (url, reply.text)
        message = reply.get_json()["error"]["message"]
        assert message.startswith("url: ") and url not in message
    assert len(app_client.get("/api/v1/crm/endpoints", headers=owner).get_json()["items"]) == 1  # the seeded one


def test_an_endpoint_is_paused_its_events_changed_and_removed_with_the_audit_naming_who(app_client, ports, clock):
    a, b = world(ports)
    clock.advance(seconds=1)
    admin = bearer(a.tokens[(Role.admin, "write")])
    path = f"/api/v1/crm/endpoints/{a.crm_endpoint_id}"
    paused = app_client.patch(path, json={"enabled": False, "events": ["voicemail.left", "call.completed"]},
                              headers=admin)
    assert paused.status_code == 200, paused.text
    assert (paused.get_json()["enabled"], paused.get_json()["events"]) == (False, ["call.completed", "voicemail.left"])
    actions = [(e["action"], e["actor_user_id"]) for e in audit.latest(ports.store(), a.tenant_id)[:2]]
    assert sorted(actions) == [("crm_endpoint.disabled", a.users[Role.admin]), ("crm_endpoint.events_changed",
                                                                          a.users[Role.admin])]
    assert app_client.patch(path, json={"events": []}, headers=admin).status_code == 422
    other = bearer(b.tokens[(Role.owner, "write")])
    assert app_client.delete(path, headers=other).status_code == 404  # another business's endpoint
    clock.advance(seconds=1)
    assert app_client.delete(path, headers=admin).status_code == 204
    assert app_client.delete(path, headers=admin).status_code == 404
    assert audit.latest(ports.store(), a.tenant_id)[0]["action"] == "crm_endpoint.removed"


def test_the_eleventh_endpoint_is_a_conflict(app_client, ports):
    a, _b = world(ports)
    owner = bearer(a.tokens[(Role.owner, "write")])
    for n in range(9):  # the seeded endpoint is the first
        body = {"url": f"http://127.0.0.1:9/hook-{n}", "events": ["call.completed"]}
        assert app_client.post("/api/v1/crm/endpoints", json=body, headers=owner).status_code == 201
    reply = app_client.post("/api/v1/crm/endpoints", json={"url": "http://127.0.0.1:9/x", "events": ["call.completed"]},
                            headers=owner)
    assert reply.status_code == 409 and "10" in reply.get_json()["error"]["message"]


def test_csrf_of_the_page_is_the_session_token(app_client, signed_in):
    """The dashboard's own pages carry the session's CSRF token that the API calls above send."""
    assert csrf_of(app_client.get("/settings/integrations").text) == signed_in
