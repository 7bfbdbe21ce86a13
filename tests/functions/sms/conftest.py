"""SMS tests: the functions and the send gate on the embedded backend, the real Twilio SDK
pointed at the loopback Twilio sandbox (status callbacks queued: tests post them when and in
the order they choose)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.functions.local import local_settings
from tests.functions.sms.support import seed_business


@pytest.fixture
def settings(tmp_path, twilio_server):
    return local_settings(tmp_path, TWILIO_API_BASE_URL=twilio_server.url)


@pytest.fixture
def business(ports, clock, twilio):
    """Sunrise Plumbing in Denver, at 11:00 local time on a Monday."""
    clock.current = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)
    return seed_business(ports)

