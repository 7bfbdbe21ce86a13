"""The billing property once per backend: a full Stripe lifecycle (checkout -> subscription
created -> invoice paid -> updated -> payment failed -> past_due -> card updated -> paid ->
canceled), delivered in order with every event duplicated, and in 50 random shuffles of the
duplicated events, ends in the same billing record, invoice history and service state.

The lifecycle runs once against the Stripe sandbox (through the real SDK); each shuffle starts
the business over (no record, no invoices, service on) and delivers every event twice under new
event ids (Stripe's resends), each signed and verified as ``stripe_events`` verifies it, then
applied by ``shared.billing.events``. Notices and the grace task go to a recorder: on the gcp
side the Cloud Tasks emulator would post them to the contract sink, which has no such workers."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.billing.events import apply_event, parse_event
from shared.billing.records import RECORD
from shared.ports import FixedClock
from shared.runtime import Ports
from shared.tenants import TenantScope
from shared.webhooks.stripe import verify_stripe
from tests.contract.test_sms_consent_property import RecordingTasks
from tests.functions.billing.support import lifecycle, seed

SECRET = "whsec_contract_billing_property"
SHUFFLES = 50
END_STATES: dict[str, Any] = {}  # backend -> the end state, to compare the two backends


@pytest.fixture(scope="module")
def stripe_server():
    from tools.sandboxes.stripe import StripeSandbox

    clock = FixedClock()
    with StripeSandbox(webhook_secret=SECRET, webhooks="manual", clock=lambda: clock.now().timestamp()) as sandbox:
        yield sandbox


@pytest.fixture
def billing_ports(ports, stripe_server):
    settings = ports.settings.model_copy(update={"stripe_api_base": stripe_server.url,
                                                 "stripe_webhook_secret": SecretStr(SECRET),
                                                 "public_base_url": "https://z3.example"})
    return Ports(settings).provide(store=ports.store(), tasks=RecordingTasks(), clock=FixedClock())


def deliver(ports: Ports, sandbox, event: dict[str, Any]) -> str:
    body, headers = sandbox.signed(event)
    verified = verify_stripe(ports.settings, raw_body=body, signature=headers["Stripe-Signature"])
    return apply_event(ports, parse_event(verified))


def end_state(scope: TenantScope, ids: dict[str, str]) -> dict[str, Any]:
    """Record, invoices and service state, with this run's Stripe ids replaced by their roles."""
    record = {k: v for k, v in (scope.get(RECORD) or {}).items() if k != "synced_at"}
    invoices = sorted((d.data for d in scope.query(scope.collection("invoices"))), key=lambda i: i["created_at"])
    names = {value: f"<{role}>" for role, value in {**ids, "tenant": scope.tenant_id}.items()}
    names.update({inv["id"]: f"<invoice {n}>" for n, inv in enumerate(invoices)})
    names.update({inv["number"]: f"<invoice number {n}>" for n, inv in enumerate(invoices) if inv.get("number")})
    tenant = scope.store.get(scope.root) or {}
    state = {"record": record, "invoices": invoices, "tenant_status": tenant.get("status"),
             "status_reason": tenant.get("status_reason")}
    text = json.dumps(state, default=lambda v: v.astimezone(dt.timezone.utc).isoformat()
                      if isinstance(v, dt.datetime) else str(v), sort_keys=True)
    for value, name in names.items():
        text = text.replace(value, name)
    return json.loads(text)


def start_over(scope: TenantScope) -> None:
    scope.delete(RECORD)
    for doc in scope.query(scope.collection("invoices")):
        scope.store.delete(doc.path)
    scope.store.update(scope.root, {"status": "active", "status_reason": None})


def test_the_lifecycle_ends_in_one_record_whatever_the_order(backend, billing_ports, stripe_server):
    ports = billing_ports
    scope = seed(ports, f"t_{uuid.uuid4().hex[:12]}")
    ids = lifecycle(ports, stripe_server, scope.tenant_id)
    events = stripe_server.take_events()
    assert len(events) >= 14

    for event in (e for e in events for _ in range(2)):
        assert deliver(ports, stripe_server, event) in ("applied", "duplicate")
    expected = end_state(scope, ids)
    record = expected["record"]
    assert (record["status"], record["plan"], record["past_due_since"], record["cancel_at_period_end"]) == (
        "canceled", "starter", None, False)
    assert (record["card"]["last4"], record["card"]["exp_month"], record["card"]["exp_year"]) == ("1881", 11, 2031)
    assert [i["status"] for i in expected["invoices"]] == ["paid", "paid"]

    runs = iter(range(10**6))

    @settings(max_examples=SHUFFLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(rng=st.randoms(use_true_random=False))
    def shuffled(rng):
        start_over(scope)
        run = next(runs)
        replay = [{**e, "id": f"{e['id']}_r{run}"} for e in events for _ in range(2)]
        rng.shuffle(replay)
        results = [deliver(ports, stripe_server, event) for event in replay]
        assert results.count("applied") == len(events) and results.count("duplicate") == len(events)
        assert end_state(scope, ids) == expected

    shuffled()
    assert next(runs) == SHUFFLES
    END_STATES[backend.name] = expected
    if len(END_STATES) == 2:
        assert END_STATES["local"] == END_STATES["gcp"]
