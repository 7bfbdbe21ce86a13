"""AI-agent function tests (retell_webhook, retell_tools, retell_recording_copy, call_completed):
the embedded backend, the Retell and Twilio API sandboxes and a recording host on loopback ports. Calls are
started the way production starts them: a Twilio-signed POST to ``voice_answer``, which
registers the call with the Retell sandbox."""

from __future__ import annotations

import pytest

from tests.functions.local import local_settings
from tests.functions.voice.support import OPEN, seed


@pytest.fixture
def retell_sandbox():
    from tools.sandboxes.retell import RetellSandbox

    with RetellSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def audio_host():
    from tools.sandboxes.audio import AudioHost

    with AudioHost() as host:
        yield host


@pytest.fixture
def twilio_sandbox():
    """Twilio's REST API on loopback: the transfer_call tool redirects live calls through it. Its
    callbacks (a redirected call dialling a person) are queued for the test to deliver."""
    from shared.config import Settings
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="manual") as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path, retell_sandbox, twilio_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, TWILIO_API_BASE_URL=twilio_sandbox.url)


@pytest.fixture
def business(ports, clock):
    """Sunrise Plumbing (Denver), at 10:00 on Monday March 2 2026: open, default scheduling
    (Monday to Friday 9 to 5, one-hour slots, two hours' notice)."""
    clock.current = OPEN
    return seed(ports)
