"""Settings → Integrations through the real app: Connect posts and is sent on to Intuit's consent
page (its origin in the page's CSP form-action), the callback brings the browser back to a page
saying "Connected", the invoice item is saved field by field, Disconnect revokes at Intuit (and
says so when Intuit is down, with nothing deleted); a CRM endpoint is added with its secret shown
on that answer only, tested, paused, removed; staff and viewers are kept out."""

from __future__ import annotations

import pytest

from shared.integrations import connections
from shared.models.tenant import Role
from shared.ports import Query
from tests.functions.app.conftest import add_member, csrf_of, sign_in


def _post(app_client, csrf: str, path: str, **form):
    return app_client.post(f"/settings/integrations{path}", data={"csrf_token": csrf, **form})


def _add_id(html: str) -> str:
    return html.split('name="add_id" value="')[1].split('"')[0]


def _connect_quickbooks(app_client, client, intuit, csrf: str) -> dict:
    reply = _post(app_client, csrf, "/connect", provider="quickbooks")
    assert reply.status_code == 303, reply.text
    query = intuit.approve(reply.headers["Location"])
    browser = client("oauth_callback")
    browser.set_cookie("z3_session", app_client.get_cookie("z3_session").value)
    back = browser.get("/", query_string=query)
    assert back.status_code == 303
    return query


def test_the_page_shows_both_providers_and_the_crm_form_with_labels(app_client, signed_in):
    page = app_client.get("/settings/integrations")
    assert page.status_code == 200
    for text in ("QuickBooks Online", "Google Calendar", "CRM webhooks", "Connect QuickBooks Online",
                 "Connect Google Calendar", "Endpoint URL", "Events to send", "A call ended", "never connected"):
        assert text in page.text, text
    assert "<script" not in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:" in csp  # the Intuit sandbox's consent page
    assert "/settings/integrations" in app_client.get("/settings").text  # linked from Settings


def test_connect_goes_to_intuit_and_comes_back_connected_then_disconnects(app_client, client, ports, intuit,
                                                                         business, signed_in):
    query = _connect_quickbooks(app_client, client, intuit, signed_in)
    page = app_client.get("/settings/integrations?connected=quickbooks")
    assert "QuickBooks Online is connected." in page.text
    assert "Connected</strong>" in page.text and f"Company {query['realmId']}" in page.text
    assert "Dana Rivera" in page.text  # who connected it
    assert "Disconnect QuickBooks Online" in page.text and "Save invoice item" in page.text

    refused = _post(app_client, signed_in, "/quickbooks/item", item_id="Services", rate="95")
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    saved = _post(app_client, signed_in, "/quickbooks/item", item_id="2", rate="$95.00")
    assert saved.status_code == 200 and "QuickBooks item 2 at $95.00" in saved.text
    assert connections.get(ports, business.tenant_id, "quickbooks")["details"] == {"item_id": "2", "rate": 95.0}

    gone = _post(app_client, signed_in, "/disconnect", provider="quickbooks")
    assert gone.status_code == 200 and "access revoked at Intuit" in gone.text
    assert intuit.revoked == [query["realmId"]]
    assert "Connect QuickBooks Online" in gone.text and "disconnected" in gone.text
    assert _post(app_client, signed_in, "/disconnect", provider="quickbooks").status_code == 404
    assert _post(app_client, signed_in, "/disconnect", provider="xero").status_code == 404


def test_intuit_down_on_disconnect_says_so_and_keeps_the_connection(app_client, client, ports, intuit, business,
                                                                    signed_in, settings):
    _connect_quickbooks(app_client, client, intuit, signed_in)
    intuit.stop()
    try:
        reply = _post(app_client, signed_in, "/disconnect", provider="quickbooks")
        assert reply.status_code == 503 and "still connected" in reply.text
        connect = _post(app_client, signed_in, "/connect", provider="quickbooks")
    finally:
        intuit.start(port=int(settings.intuit_api_base_url.rsplit(":", 1)[1]))
    assert connections.live(ports, business.tenant_id, "quickbooks")["tokens_sealed"]
    assert connect.status_code == 503 and "did not answer" in connect.text


def test_a_crm_endpoint_is_added_with_its_secret_once_tested_paused_and_removed(app_client, ports, business,
                                                                              signed_in):
    refused = _post(app_client, signed_in, "/crm", url="ftp://127.0.0.1/x", events="call.completed")
    assert refused.status_code == 422 and "https://" in refused.text
    none_chosen = _post(app_client, signed_in, "/crm", url="http://127.0.0.1:9/hook")
    assert none_chosen.status_code == 422 and "choose at least one event" in none_chosen.text

    form = {"csrf_token": signed_in, "url": "http://127.0.0.1:9/hook", "events": ["call.completed", "voicemail.left"],
            "description": "Our CRM", "add_id": _add_id(app_client.get("/settings/integrations").text)}
    added = app_client.post("/settings/integrations/crm", data=form)
    assert added.status_code == 201
    secret = added.text.split('<code class="secret-value">')[1].split("</code>")[0]
    assert secret.startswith("whsec_")
    reloaded = app_client.post("/settings/integrations/crm", data=form)  # the browser re-posts the same form
    assert reloaded.status_code == 200 and "This endpoint was added already" in reloaded.text
    assert secret not in reloaded.text and 'class="secret-value"' not in reloaded.text
    page = app_client.get("/settings/integrations")
    assert secret not in page.text and "http://127.0.0.1:9/hook" in page.text and "A voicemail or message" in page.text
    (endpoint,) = [d.data for d in ports.store().query(Query(f"tenants/{business.tenant_id}/crm_endpoints"))]

    tested = _post(app_client, signed_in, f"/crm/{endpoint['id']}/test")
    assert tested.status_code == 200 and "Test event not delivered (no answer)" in tested.text
    log = app_client.get(f"/settings/integrations/crm/{endpoint['id']}")
    assert log.status_code == 200 and "webhook.test" in log.text and "failed" in log.text

    paused = _post(app_client, signed_in, f"/crm/{endpoint['id']}/state", enabled="no")
    assert "Endpoint paused" in paused.text and "Resume" in paused.text
    removed = _post(app_client, signed_in, f"/crm/{endpoint['id']}/delete")
    assert "Endpoint removed" in removed.text and "No endpoints yet." in removed.text
    assert app_client.get(f"/settings/integrations/crm/{endpoint['id']}").status_code == 404


@pytest.mark.parametrize("role", [Role.staff, Role.viewer])
def test_staff_and_viewers_cannot_open_or_change_integrations(app_client, ports, business, role):
    add_member(ports, business, f"{role.value}@sunrise.example", role)
    assert sign_in(app_client, f"{role.value}@sunrise.example").status_code == 302
    csrf = csrf_of(app_client.get("/").text)
    assert app_client.get("/settings/integrations").status_code == 403
    assert _post(app_client, csrf, "/connect", provider="quickbooks").status_code == 403
    assert _post(app_client, csrf, "/crm", url="http://127.0.0.1:9/hook", events="call.completed").status_code == 403


def test_a_consent_refused_at_intuit_comes_back_to_the_page_saying_so(app_client, client, ports, intuit, business,
                                                                      signed_in):
    reply = _post(app_client, signed_in, "/connect", provider="quickbooks")
    state = intuit.approve(reply.headers["Location"])["state"]
    browser = client("oauth_callback")
    browser.set_cookie("z3_session", app_client.get_cookie("z3_session").value)
    back = browser.get("/", query_string={"error": "access_denied", "state": state})
    assert back.status_code == 303 and back.headers["Location"].endswith("/settings/integrations?declined=quickbooks&why=denied")
    page = app_client.get("/settings/integrations?declined=quickbooks&why=denied")
    assert "QuickBooks Online was not connected: the connection was not approved at Intuit." in page.text
    assert connections.get(ports, business.tenant_id, "quickbooks") is None
    assert "Connect QuickBooks Online" in page.text
