"""The app function through functions-framework's test client, on the embedded backend.

``business`` makes a tenant with an owner whose password is :data:`PASSWORD`; ``signed_in``
signs a test client in through the real sign-in form and returns its CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from shared.accounts import passwords, policy
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import add_user, create_tenant
from tests.functions.conftest import google_settings, intuit_settings
from tests.functions.local import local_settings

PASSWORD = "violet-harbor-engine-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Business:
    tenant_id: str
    owner_id: str
    owner_email: str


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def make_business(ports, *, name: str = "Sunrise Dental", email: str = "owner@sunrise.example") -> Business:
    tenant = create_tenant(ports.store(), name=name, contact_name="Dana Rivera", contact_email=email)
    owner = ports.store().query(Query(f"tenants/{tenant.id}/users"))[0]
    ports.store().update(owner.path, {"password_hash": passwords.hash_password(PASSWORD), "status": "active",
                                      "email_verified_at": ports.clock().now()})
    policy.record_acceptance(ports.store(), ports.clock().now(), tenant_id=tenant.id, user_id=owner.id, ip="127.0.0.1",
                             user_agent="test", settings=ports.settings)
    return Business(tenant.id, owner.id, email)


def add_member(ports, business: Business, email: str, role: Role) -> str:
    user = add_user(ports.store(), business.tenant_id, email=email, role=role, name=email.split("@")[0],
                    password_hash=passwords.hash_password(PASSWORD))
    return user.id


STRIPE_WEBHOOK_SECRET = "whsec_test_app_sandbox_secret"


@pytest.fixture
def stripe_sandbox(clock):
    """The Stripe sandbox on a loopback port: ``/api/v1/billing`` reaches it through the real SDK."""
    from tools.sandboxes.stripe import StripeSandbox

    with StripeSandbox(webhook_secret=STRIPE_WEBHOOK_SECRET, webhooks="manual",
                       clock=lambda: clock.now().timestamp()) as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path, stripe_sandbox, intuit_server, google_server):
    """Stripe, Intuit and Google at their loopback sandboxes: no app test reaches a real provider."""
    return local_settings(tmp_path, STRIPE_API_BASE=stripe_sandbox.url, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
                          **intuit_settings(intuit_server), **google_settings(google_server))


@pytest.fixture
def app_client(client):
    return client("app")


@pytest.fixture
def seeded(ports):
    """Two businesses with everything the API reads (``api_world``)."""
    from tests.functions.app.api_world import world

    return world(ports)


@pytest.fixture
def business(ports):
    return make_business(ports)


def sign_in(app_client, email: str, password: str = PASSWORD, **environ):
    page = app_client.get("/signin", environ_base=environ)
    return app_client.post("/signin", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
                           environ_base=environ)


@pytest.fixture
def signed_in(app_client, business):
    """Sign the owner in; the CSRF token of the new session."""
    reply = sign_in(app_client, business.owner_email)
    assert reply.status_code == 302, reply.text
    return csrf_of(app_client.get("/").text)


class Outbox:
    """The notify tasks the app queued (what the ``notify`` worker would send), kept in order."""

    def __init__(self, queue) -> None:
        self.queue = queue
        self.sent = []

    def enqueue(self, target, body, **kwargs):
        from shared.notifications import NotifyRequest

        if target == "notify":
            self.sent.append(NotifyRequest.from_bytes(body))
        return self.queue.enqueue(target, body, **kwargs)

    def last(self, template: str):
        found = [request for request in self.sent if request.template == template]
        assert found, f"no {template} email was queued"
        return found[-1]

    def link(self, template: str, key: str) -> str:
        """The path and query of the link in the last ``template`` email (inside the app)."""
        url = self.last(template).context[key]
        return url.split("/app", 1)[1]


@pytest.fixture
def outbox(ports):
    box = Outbox(ports.tasks())
    ports.provide(tasks=box)
    return box
