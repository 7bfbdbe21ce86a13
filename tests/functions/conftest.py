"""Functions under test through functions-framework's own app and test client, on the embedded
backend (one fresh data directory per test). ``client("sms_inbound")`` gives a test client."""

from __future__ import annotations

import pytest

from shared import runtime
from shared.config import Settings
from tests.functions.local import local_settings
from shared.ports import FixedClock
from shared.runtime import Ports


@pytest.fixture
def settings(tmp_path):
    return local_settings(tmp_path)


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def ports(settings, clock):
    from shared.adapters.local.db import forget

    p = runtime.use(Ports(settings).provide(clock=clock))
    yield p
    _drain_fallback_pool()
    runtime.reset()
    p.close()
    forget(settings.z3_data_dir)


def _drain_fallback_pool() -> None:
    """Work a test left running on the fallback pool (a fallback answer or a calendar lookup that
    outlived its budget finishes in the background, by design) must end before the test's store
    is closed under it: closing SQLite while another thread reads it can crash the interpreter."""
    from shared.voice import fallback

    pool, fallback._fallback_pool = fallback._fallback_pool, None
    if pool is not None:
        pool.shutdown(wait=True)


@pytest.fixture
def retell_sandbox():
    from tools.sandboxes.retell import RetellSandbox

    with RetellSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def twilio_sandbox():
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="off") as sandbox:
        yield sandbox


@pytest.fixture
def client(ports):
    from tools.wsgi import function_app

    cache = {}

    def make(name: str):
        if name not in cache:
            cache[name] = function_app(name).test_client()
        return cache[name]

    return make


@pytest.fixture(scope="session")
def twilio_server():
    """One Twilio sandbox for the session whose status callbacks the test plays by hand (the sms
    and dashboard texting tests point ``TWILIO_API_BASE_URL`` at it); :func:`twilio` resets it."""
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="manual") as sandbox:
        yield sandbox


@pytest.fixture
def twilio(twilio_server):
    twilio_server.reset()
    return twilio_server


@pytest.fixture(scope="session")
def intuit_server():
    """One Intuit sandbox (OAuth and the accounting API) for the session; :func:`intuit` resets it."""
    from tools.sandboxes.intuit import IntuitSandbox

    with IntuitSandbox.from_settings(Settings(Z3_BACKEND="local")) as sandbox:
        yield sandbox


@pytest.fixture
def intuit(intuit_server):
    intuit_server.reset()
    return intuit_server


def intuit_settings(sandbox) -> dict[str, str]:
    """The settings that point the Intuit client at ``sandbox``."""
    return {"INTUIT_API_BASE_URL": sandbox.url,
            "INTUIT_DISCOVERY_URL": f"{sandbox.url}/.well-known/openid_configuration"}


@pytest.fixture(scope="session")
def google_server():
    """One Google sandbox (OAuth and the Calendar API) for the session; :func:`google` resets it."""
    from tools.sandboxes.google import GoogleSandbox

    with GoogleSandbox.from_settings(Settings(Z3_BACKEND="local")) as sandbox:
        yield sandbox


@pytest.fixture
def google(google_server):
    google_server.reset()
    return google_server


@pytest.fixture(scope="session")
def receiver_server():
    """One CRM receiver (checks Standard Webhooks signatures) for the session; :func:`receiver`
    resets it."""
    from tools.sandboxes.crm import CrmReceiver

    with CrmReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


def google_settings(sandbox) -> dict[str, str]:
    """The settings that point the Google OAuth and Calendar clients at ``sandbox``."""
    return {"GOOGLE_OAUTH_AUTH_URL": f"{sandbox.url}/o/oauth2/auth", "GOOGLE_OAUTH_TOKEN_URL": f"{sandbox.url}/token",
            "GOOGLE_OAUTH_REVOKE_URL": f"{sandbox.url}/revoke", "GOOGLE_CALENDAR_API_URL": f"{sandbox.url}/calendar/v3"}
