"""Voice function tests: the functions run on the embedded backend with the Retell and Twilio
sandboxes on loopback ports, the SDKs pointed at them through the ordinary settings."""

from __future__ import annotations

import pytest

from shared.config import Settings
from tests.functions.local import local_settings
from tests.functions.voice.support import OPEN, seed


@pytest.fixture
def retell_sandbox():
    from tools.sandboxes.retell import RetellSandbox

    with RetellSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def twilio_sandbox():
    from tools.sandboxes.twilio import TwilioSandbox

    base = Settings(Z3_BACKEND="local")
    with TwilioSandbox.from_settings(base, callbacks="off") as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url)


@pytest.fixture
def business(ports, clock):
    """The seeded business, at 10:00 on a Monday in Denver (open)."""
    clock.current = OPEN
    return seed(ports)
