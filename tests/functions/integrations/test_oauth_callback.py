"""Connecting QuickBooks through ``oauth_callback``: the real intuit-oauth ``AuthClient`` against
the loopback Intuit; the state is ours, single use and bound to the session (or the operator's
invocation); the tokens are stored encrypted; refreshes are serialised by the lock."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

from shared.accounts import audit, sessions
from shared.integrations import connections
from shared.quickbooks import connect
from shared.notifications import NotifyRequest
from tests.functions.agent.support import tasks
from tests.functions.integrations.conftest import OTHER, TENANT


def _start(ports, *, tenant=TENANT, binding=None, user="u_owner"):
    return connect.start(ports, tenant_id=tenant, user_id=user, binding=binding or connections.operator_binding())


def _callback(client, query, cookie=None):
    browser = client("oauth_callback")
    if cookie:
        browser.set_cookie("z3_session", cookie)
    else:
        browser.delete_cookie("z3_session")
    return browser.get("/?" + urlencode(query))


def test_operator_flow_connects_and_stores_only_ciphertext(client, ports, intuit, businesses):
    query = intuit.approve(_start(ports))
    response = _callback(client, query)
    assert response.status_code == 200 and b"QuickBooks Online is connected" in response.data
    stored = ports.store().get(connections.connection_path(TENANT, "quickbooks"))
    assert stored["status"] == "connected" and stored["account_id"] == query["realmId"]
    tokens = connections.tokens(ports, TENANT, "quickbooks")
    raw = json.dumps(stored, default=str)
    assert tokens.access_token not in raw and tokens.refresh_token not in raw and "eyJ" not in raw
    assert tokens.access_token in intuit._access  # the token Intuit issued, decrypted back
    assert [e["action"] for e in audit.latest(ports.store(), TENANT)] == ["integration.connected"]
    # the sealed blob is bound to its tenant: it does not open as another tenant's
    ports.store().set(connections.connection_path(OTHER, "quickbooks"), {**stored})
    try:
        connections.tokens(ports, OTHER, "quickbooks")
        raise AssertionError("a tenant's tokens opened as another tenant's")
    except ValueError:
        pass


def test_a_state_works_once(client, ports, intuit, businesses):
    query = intuit.approve(_start(ports))
    assert _callback(client, query).status_code == 200
    again = _callback(client, {**query, "code": intuit.approve(_start(ports))["code"]})
    assert again.status_code == 403


def test_unknown_and_expired_states_are_refused(client, ports, clock, intuit, businesses):
    assert _callback(client, {"code": "x", "state": "forged", "realmId": "1"}).status_code == 403
    query = intuit.approve(_start(ports))
    clock.advance(minutes=11)
    assert _callback(client, query).status_code == 403
    assert ports.store().get(connections.connection_path(TENANT, "quickbooks")) is None


def test_a_session_flow_needs_the_same_session(client, ports, clock, intuit, businesses):
    mine = sessions.create(ports.store(), clock.now(), tenant_id=TENANT, user_id="u_owner", role="owner")
    theirs = sessions.create(ports.store(), clock.now(), tenant_id=TENANT, user_id="u_other", role="owner")
    query = intuit.approve(_start(ports, binding=connections.session_binding(mine.key)))
    assert _callback(client, query).status_code == 403  # no cookie
    query = intuit.approve(_start(ports, binding=connections.session_binding(mine.key)))
    assert _callback(client, query, cookie=theirs.id).status_code == 403
    query = intuit.approve(_start(ports, binding=connections.session_binding(mine.key)))
    back = _callback(client, query, cookie=mine.id)  # started in the app: back to Settings → Integrations
    assert back.status_code == 303
    assert back.headers["Location"] == "https://z3.example/app/settings/integrations?connected=quickbooks"
    assert connections.live(ports, TENANT, "quickbooks")["connected_via"] == "session"


def test_a_refused_consent_and_a_bad_code_are_400_pages_a_person_can_read(client, ports, intuit, businesses):
    query = intuit.approve(_start(ports))
    refused = _callback(client, {"error": "access_denied", "state": query["state"]})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert b"QuickBooks Online was not connected" in refused.data
    query = intuit.approve(_start(ports))
    bad_code = _callback(client, {**query, "code": "not-issued"})
    assert bad_code.status_code == 400 and b"was not connected" in bad_code.data
    assert ports.store().get(connections.connection_path(TENANT, "quickbooks")) is None
    used = _callback(client, query)  # the state went with the refusal: it cannot be replayed
    assert used.status_code == 403 and b"This connect link cannot be used" in used.data


def test_a_flow_from_the_app_that_was_refused_goes_back_to_the_page(client, ports, clock, intuit, businesses):
    mine = sessions.create(ports.store(), clock.now(), tenant_id=TENANT, user_id="u_owner", role="owner")
    query = intuit.approve(_start(ports, binding=connections.session_binding(mine.key)))
    back = _callback(client, {"error": "access_denied", "state": query["state"]}, cookie=mine.id)
    assert back.status_code == 303
    assert back.headers["Location"] == "https://z3.example/app/settings/integrations?declined=quickbooks&why=denied"
    assert ports.store().get(connections.connection_path(TENANT, "quickbooks")) is None


def test_intuit_down_is_503(client, ports, intuit, businesses, settings):
    query = intuit.approve(_start(ports))
    intuit.stop()
    try:
        assert _callback(client, query).status_code == 503
    finally:
        intuit.start(port=int(settings.intuit_api_base_url.rsplit(":", 1)[1]))


def _connected(client, ports, intuit, tenant=TENANT, company="default"):
    assert _callback(client, intuit.approve(_start(ports, tenant=tenant), company=company)).status_code == 200


def test_refresh_ahead_of_expiry_rotates_once_for_two_racing_instances(client, ports, clock, intuit, businesses):
    _connected(client, ports, intuit)
    first = connections.tokens(ports, TENANT, "quickbooks")
    clock.advance(minutes=56)  # within REFRESH_AHEAD of the hour
    barrier = threading.Barrier(2)
    results, errors = [], []

    def refresh(old):
        barrier.wait(timeout=5)  # both instances are in; the first holds the lock
        return connect._refresh(ports)(old)

    def worker():
        try:
            results.append(connections.access_token(ports, TENANT, "quickbooks", refresh=refresh))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    # The second instance must not reach the refresh at all: give the barrier a partner that is
    # not a refresh, so a second rotation would deadlock the barrier instead of passing.
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=5)
    for thread in threads:
        thread.join(10)
    assert not errors and intuit.refresh_count == 1
    assert len(set(results)) == 1 and results[0] != first.access_token
    assert intuit.live_refresh_tokens() == 1


def test_invalid_grant_disconnects_and_emails_the_owner(client, ports, clock, intuit, businesses):
    _connected(client, ports, intuit)
    intuit.revoke_all(connections.live(ports, TENANT, "quickbooks")["account_id"])
    clock.advance(minutes=58)
    try:
        connect.api(ports, TENANT)
        raise AssertionError("a revoked grant still gave an API client")
    except connections.NotConnected:
        pass
    stored = ports.store().get(connections.connection_path(TENANT, "quickbooks"))
    assert stored["status"] == "disconnected" and stored["tokens_sealed"] is None
    assert stored["disconnect_reason"] == "invalid_grant"
    entry = audit.latest(ports.store(), TENANT)[0]
    assert entry["action"] == "integration.disconnected" and entry["actor_user_id"] is None
    [(_name, body)] = tasks(ports.settings, "notify")
    request = NotifyRequest.from_bytes(body)
    assert (request.tenant_id, request.template, request.context["reason"]) == (
        TENANT, "integration_disconnected", "invalid_grant")


def test_disconnect_from_settings_revokes_at_intuit(client, ports, clock, intuit, businesses):
    _connected(client, ports, intuit)
    clock.advance(seconds=1)
    realm = connections.live(ports, TENANT, "quickbooks")["account_id"]
    assert connect.disconnect(ports, TENANT, actor_user_id="u_owner") is True
    assert intuit.revoked == [realm] and intuit.live_refresh_tokens() == 0
    stored = ports.store().get(connections.connection_path(TENANT, "quickbooks"))
    assert stored["status"] == "disconnected" and stored["tokens_sealed"] is None
    entry = audit.latest(ports.store(), TENANT)[0]
    assert (entry["action"], entry["actor_user_id"], entry["changes"]) == (
        "integration.disconnected", "u_owner", {"reason": "settings"})
    assert connect.disconnect(ports, TENANT, actor_user_id="u_owner") is False


def test_two_tenants_two_companies(client, ports, intuit, businesses):
    _connected(client, ports, intuit, TENANT, "sunrise")
    _connected(client, ports, intuit, OTHER, "harbor")
    mine, theirs = (connections.live(ports, t, "quickbooks")["account_id"] for t in (TENANT, OTHER))
    assert mine != theirs
    assert connections.find_by_account(ports, "quickbooks", mine) == [TENANT]
    assert connect.disconnected_at_intuit(ports, theirs) == [OTHER]
    assert connections.live(ports, TENANT, "quickbooks")["status"] == "connected"
