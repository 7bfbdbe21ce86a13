"""Billing function tests: the embedded backend and the Stripe sandbox on a loopback port, with
its events kept for the test to deliver (signed, as Stripe signs them)."""

from __future__ import annotations

import pytest

from tests.functions.local import local_settings


@pytest.fixture
def stripe_sandbox(clock):
    from tools.sandboxes.stripe import StripeSandbox

    with StripeSandbox(webhook_secret="whsec_test_billing_sandbox_secret", webhooks="manual",
                       clock=lambda: clock.now().timestamp()) as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path, stripe_sandbox):
    return local_settings(tmp_path, STRIPE_API_BASE=stripe_sandbox.url,
                          STRIPE_WEBHOOK_SECRET="whsec_test_billing_sandbox_secret")


@pytest.fixture
def business(ports):
    from tests.functions.billing.support import seed

    return seed(ports)
