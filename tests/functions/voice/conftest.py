"""Voice function tests: the functions run on the embedded backend with the Retell and Twilio
sandboxes on loopback ports, the SDKs pointed at them through the ordinary settings."""

from __future__ import annotations

import pytest

from tests.functions.local import local_settings
from tests.functions.voice.support import OPEN, seed


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url)


@pytest.fixture
def business(ports, clock):
    """The seeded business, at 10:00 on a Monday in Denver (open)."""
    clock.current = OPEN
    return seed(ports)
