"""Google Calendar: connected through ``oauth_callback`` with the real google-auth-oauthlib
``Flow`` and google-auth ``Credentials`` against the loopback Google; its busy times reach
``check_availability`` through ``retell_tools`` (signed like Retell), bounded when Google is slow;
``book_appointment`` writes one event per appointment; two businesses never see each other's."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from urllib.parse import urlencode

import pytest

from shared import tenants
from shared.calendar import availability, connect, events
from shared.integrations import connections
from shared.ports import Query
from shared.scheduling import appointments
from shared.tenants import TenantScope
from tests.functions.agent.support import start_ai_call, tool
from tests.functions.conftest import google_settings
from tests.functions.local import local_settings
from tests.functions.voice.support import TENANT, voice_settings

OTHER, OTHER_NUMBER = "t_harbor", "+12125550100"
OWNER_EMAIL, OTHER_EMAIL = "dana@sunrise.example", "kim@harbor.example"
THURSDAY_2PM = "2026-03-05T14:00:00-07:00"
MT = dt.timezone(dt.timedelta(hours=-7))


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox, google_server):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url,
                          **google_settings(google_server))


@pytest.fixture
def other_business(ports, business):
    store = ports.store()
    tenants.create_tenant(store, tenant_id=OTHER, name="Harbor Dental", contact_name="Kim Lo",
                          contact_email="owner@harbor.example", time_zone="America/Denver", numbers=[OTHER_NUMBER])
    store.update(f"tenants/{OTHER}", {"settings.voice": voice_settings()})
    return TenantScope(store, OTHER)


def connect_calendar(client, ports, google, *, tenant=TENANT, email=OWNER_EMAIL):
    url = connect.start(ports, tenant_id=tenant, user_id="u_owner", binding=connections.operator_binding())
    query = google.approve(url, email=email)
    browser = client("oauth_callback")
    browser.delete_cookie("z3_session")
    response = browser.get("/?" + urlencode(query))
    assert response.status_code == 200, response.data
    return response


def starts(answer):
    return [s["start"] for s in answer["slots"]]


def test_connect_offline_with_pkce_stores_only_ciphertext(client, ports, google, business):
    url = connect.start(ports, tenant_id=TENANT, user_id="u_owner", binding=connections.operator_binding())
    assert "access_type=offline" in url and "code_challenge_method=S256" in url and "prompt=consent" in url
    response = connect_calendar(client, ports, google)
    assert b"Google Calendar is connected" in response.data
    stored = ports.store().get(connections.connection_path(TENANT, "google_calendar"))
    assert stored["details"]["calendar_id"] == OWNER_EMAIL
    raw = json.dumps(stored, default=str)
    tokens = connections.tokens(ports, TENANT, "google_calendar")
    assert tokens.access_token.startswith("ya29.") and tokens.refresh_token.startswith("1//")
    assert tokens.access_token not in raw and tokens.refresh_token not in raw and "ya29." not in raw
    assert OWNER_EMAIL not in stored["account_id"]  # the global account index holds a hash
    # a code is single use: replaying the callback is refused (the state is used up, too)
    assert google._codes == {}


def test_a_google_event_blocks_its_slot_on_the_next_check(client, settings, ports, clock, google, business,
                                                          retell_sandbox):
    _sid, call = start_ai_call(client, settings, retell_sandbox)
    _, before = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
    assert THURSDAY_2PM in starts(before)
    connect_calendar(client, ports, google)
    google.add_event(OWNER_EMAIL, dt.datetime(2026, 3, 5, 14, 15, tzinfo=MT), dt.datetime(2026, 3, 5, 15, 0, tzinfo=MT),
                     "Dentist")
    clock.advance(seconds=31)  # past the cached free/busy's freshness
    _, after = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
    assert starts(after) == [s for s in starts(before) if s != THURSDAY_2PM]
    # and the agent cannot book it either
    status, booked = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Pat Lee")
    assert status == 200 and booked["booked"] is False


def test_google_slow_falls_back_to_our_bookings_within_budget(client, settings, ports, clock, google, business,
                                                              retell_sandbox):
    connect_calendar(client, ports, google)
    google.add_event(OWNER_EMAIL, dt.datetime(2026, 3, 5, 14, 0, tzinfo=MT), dt.datetime(2026, 3, 5, 15, 0, tzinfo=MT))
    _sid, call = start_ai_call(client, settings, retell_sandbox)
    google.delay = 3.0  # slower than the caller's budget, within the fetch's own timeout
    try:
        began = time.monotonic()
        status, answer = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
        took = time.monotonic() - began
    finally:
        google.delay = 0.0
    assert status == 200 and answer["slots"]
    assert took < availability.BUDGET_SECONDS + 0.5, took
    assert THURSDAY_2PM in starts(answer)  # no calendar knowledge yet: our own bookings only
    # Google's late answer still fills the cache ...
    deadline = time.monotonic() + 5
    while not ports.store().query(Query(f"tenants/{TENANT}/calendar_busy")) and time.monotonic() < deadline:
        time.sleep(0.1)
    # ... which serves the next check when Google is down (stale, but the business's calendar)
    clock.advance(seconds=31)
    google.fail(1)
    _, again = tool(client, settings, call, "check_availability", date="2026-03-05", limit=10)
    assert THURSDAY_2PM not in starts(again)


def test_booking_creates_one_event_and_cancel_and_reschedule_update_it(client, settings, ports, google, business,
                                                                         retell_sandbox):
    connect_calendar(client, ports, google)
    _sid, call = start_ai_call(client, settings, retell_sandbox)
    for _ in range(2):  # Retell retries the same booking
        status, answer = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Maria Lopez",
                              reason="leak")
        assert status == 200 and answer["booked"] is True
    appt_id = answer["appointment"]["id"]
    [event] = google.events(OWNER_EMAIL).values()
    assert event["id"] == events.event_id(TENANT, appt_id)
    assert event["start"]["dateTime"].startswith("2026-03-05T21:00:00")
    scope = TenantScope(ports.store(), TENANT)
    assert appointments.get(scope, appt_id).calendar_event_id == event["id"]
    # a retry after a lost answer: insert with the same id is one event still
    events.sync(ports, TENANT, appointments.get(scope, appt_id))
    assert len(google.events(OWNER_EMAIL)) == 1
    tenant = scope.tenant()
    moved = appointments.reschedule(scope, tenant, ports.clock().now(), appt_id,
                                    start=dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.timezone.utc))
    assert moved.status == "booked"
    events.sync(ports, TENANT, moved.appointment)
    assert google.events(OWNER_EMAIL)[event["id"]]["start"]["dateTime"].startswith("2026-03-06T16:00:00")
    events.sync(ports, TENANT, appointments.cancel(scope, appt_id))
    assert google.events(OWNER_EMAIL)[event["id"]]["status"] == "cancelled"
    assert appointments.reschedule(scope, tenant, ports.clock().now(), appt_id,
                                   start=dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.timezone.utc)).status == "not_offered"


def test_two_refreshes_at_once_are_one_refresh(client, ports, clock, google, business):
    connect_calendar(client, ports, google)
    clock.advance(minutes=57)  # within five minutes of the access token's expiry
    results, errors = [], []

    def check():
        try:
            results.append(connect.call(ports, TENANT, lambda cal, cid: cal.primary()["id"]))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [OWNER_EMAIL, OWNER_EMAIL]
    assert google.refresh_count == 1


def test_a_revoked_grant_disconnects(client, ports, clock, google, business):
    connect_calendar(client, ports, google)
    google.revoke_all(OWNER_EMAIL)
    clock.advance(minutes=58)
    with pytest.raises(connections.NotConnected):
        connect.call(ports, TENANT, lambda cal, cid: cal.primary())
    assert connections.get(ports, TENANT, "google_calendar")["disconnect_reason"] == "invalid_grant"
    # the call path answers from our bookings alone
    assert availability.busy(ports, TENANT, clock.now(), clock.now() + dt.timedelta(days=1)).source == "none"


def test_one_businesss_calendar_never_reaches_another(client, settings, ports, clock, google, business,
                                                      other_business, retell_sandbox):
    connect_calendar(client, ports, google)
    connect_calendar(client, ports, google, tenant=OTHER, email=OTHER_EMAIL)
    google.add_event(OWNER_EMAIL, dt.datetime(2026, 3, 5, 14, 0, tzinfo=MT), dt.datetime(2026, 3, 5, 15, 0, tzinfo=MT))
    _s, mine = start_ai_call(client, settings, retell_sandbox)
    _t, theirs = start_ai_call(client, settings, retell_sandbox, to=OTHER_NUMBER)
    _, a = tool(client, settings, mine, "check_availability", date="2026-03-05", limit=10)
    _, b = tool(client, settings, theirs, "check_availability", date="2026-03-05", limit=10)
    assert THURSDAY_2PM not in starts(a) and THURSDAY_2PM in starts(b)
    status, booked = tool(client, settings, theirs, "book_appointment", start=THURSDAY_2PM, name="Sam Ortiz")
    assert status == 200 and booked["booked"] is True
    assert list(google.events(OWNER_EMAIL)) and all(e["summary"] == "Busy" for e in google.events(OWNER_EMAIL).values())
    assert [e["summary"] for e in google.events(OTHER_EMAIL).values()] == ["Sam Ortiz (Z3 OS)"]
    # a sealed token blob does not open as another tenant's
    stored = ports.store().get(connections.connection_path(TENANT, "google_calendar"))
    ports.store().set(connections.connection_path(OTHER, "google_calendar"), stored)
    with pytest.raises(ValueError):
        connections.tokens(ports, OTHER, "google_calendar")


def test_google_down_at_booking_keeps_the_booking_and_calendar_sync_writes_it_later(client, settings, ports, google,
                                                                                   business, retell_sandbox,
                                                                                   monkeypatch):
    from tools import ops

    for name in ("GOOGLE_OAUTH_AUTH_URL", "GOOGLE_OAUTH_TOKEN_URL", "GOOGLE_OAUTH_REVOKE_URL", "GOOGLE_CALENDAR_API_URL",
                 "PUBLIC_BASE_URL"):
        monkeypatch.setenv(name, getattr(settings, name.lower()))
    connect_calendar(client, ports, google)
    _sid, call = start_ai_call(client, settings, retell_sandbox)
    tool(client, settings, call, "check_availability", date="2026-03-05")  # free/busy cached
    google.fail(10)
    status, answer = tool(client, settings, call, "book_appointment", start=THURSDAY_2PM, name="Maria Lopez")
    assert status == 200 and answer["booked"] is True
    assert google.events(OWNER_EMAIL) == {}
    google.fail(0)
    assert ops.main(["--data-dir", str(settings.z3_data_dir), "integrations", "calendar-sync",
                     "--tenant", TENANT]) == 0
    [event] = google.events(OWNER_EMAIL).values()
    assert event["id"] == events.event_id(TENANT, answer["appointment"]["id"])
    # nothing left to write: a second run writes nothing
    assert events.sync_pending(ports, TENANT) == (0, 0)
