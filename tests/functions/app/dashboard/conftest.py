"""Fixtures for the dashboard pages that text (texts, contacts, appointments): the real Twilio SDK
against the loopback Twilio sandbox, a business with a texting number in Denver, one opted-in and
one opted-out caller, Monday 11:00."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import consent
from shared.tenants import TenantScope
from tests.functions.local import local_settings

BUSINESS_NUMBER = "+13035550100"
OPTED_IN = "+13035550142"
OPTED_OUT = "+13035550143"
STRANGER = "+13035550144"
MONDAY_11_DENVER = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def settings(tmp_path, twilio_server):
    return local_settings(tmp_path, TWILIO_API_BASE_URL=twilio_server.url)


@pytest.fixture
def texting(ports, business, clock, twilio):
    """The business with a texting number, one opted-in and one opted-out caller; Monday 11:00 in Denver."""
    clock.current = MONDAY_11_DENVER
    store = ports.store()
    store.update(f"tenants/{business.tenant_id}", {"numbers": [BUSINESS_NUMBER], "time_zone": "America/Denver"})
    store.set(f"phone_numbers/{BUSINESS_NUMBER}", {"tenant_id": business.tenant_id})
    scope = TenantScope(store, business.tenant_id)
    consent.record(scope, OPTED_IN, action="opt_in", method="verbal", disclosure="Can we text you? Reply STOP to opt out.",
                   source_type="call", source_id="CA" + "1" * 32, now=clock.now() - dt.timedelta(days=2))
    consent.record(scope, OPTED_OUT, action="opt_in", method="keyword", disclosure="You are subscribed.",
                   source_type="message", source_id="SM" + "2" * 32, now=clock.now() - dt.timedelta(days=3))
    consent.record(scope, OPTED_OUT, action="opt_out", method="keyword", disclosure="You are unsubscribed.",
                   source_type="message", source_id="SM" + "3" * 32, now=clock.now() - dt.timedelta(days=1),
                   keyword="STOP")
    return scope
