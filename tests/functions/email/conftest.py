"""Email tests: ``notify``, ``email_events`` and ``email_unsubscribe`` on the embedded backend,
the real Resend SDK pointed at the loopback Resend sandbox (webhooks queued: tests post them to
``email_events`` when and in the order they choose)."""

from __future__ import annotations

import pytest

from shared.config import Settings
from tests.functions.local import local_settings
from tests.functions.email.support import seed_business


@pytest.fixture(scope="session")
def resend_server():
    from tools.sandboxes.resend import ResendSandbox

    base = Settings(Z3_BACKEND="local", PUBLIC_BASE_URL="https://z3.example")
    with ResendSandbox.from_settings(base, webhooks="manual") as sandbox:
        yield sandbox


@pytest.fixture
def resend(resend_server):
    resend_server.reset()
    return resend_server


@pytest.fixture
def settings(tmp_path, resend_server):
    return local_settings(tmp_path, RESEND_API_URL=resend_server.url)


@pytest.fixture
def business(ports, resend):
    """Sunrise Plumbing (Denver) with its owner, an admin, a staff member and a disabled admin."""
    return seed_business(ports)
