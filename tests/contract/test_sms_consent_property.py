"""The SMS consent property (``tests/functions/sms/consent_model.py``) once per backend: the
send gate, the inbound keywords and the ledger keep the promise on Firestore as on SQLite.

The contract ``ports`` is wrapped so the send gate reaches a Twilio sandbox and time is a
``FixedClock`` the sequence moves; the store is the backend's own. Notifications of ordinary
texts go to a recorder: on the gcp side the Cloud Tasks emulator would post them to the contract
sink, which has no ``notify`` function, and retry them for the rest of the session."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings

from shared.ports import FixedClock, TaskRef
from shared.runtime import Ports
from shared.tenants import TenantScope, create_tenant
from tests.functions.sms.consent_model import operations, run_sequence


@pytest.fixture(scope="module")
def twilio_server():
    from shared.config import Settings
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="off") as sandbox:
        yield sandbox


class RecordingTasks:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def enqueue(self, target, body, *, name=None, schedule_time=None, headers=None) -> TaskRef:
        created = name not in self.names
        self.names.add(name or uuid.uuid4().hex)
        return TaskRef(name or "", created)


@pytest.fixture
def sms_ports(ports, twilio_server):
    twilio_server.reset()
    settings = ports.settings.model_copy(update={"twilio_api_base_url": twilio_server.url,
                                                 "public_base_url": "https://z3.example"})
    return Ports(settings).provide(store=ports.store(), tasks=RecordingTasks(), clock=FixedClock())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_no_text_without_consent_on_this_backend(sms_ports, twilio_server, ops):
    store = sms_ports.store()
    tenant_id = f"t_{uuid.uuid4().hex[:12]}"
    number = f"+1303555{uuid.uuid4().int % 9000 + 1000:04d}"
    create_tenant(store, tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana",
                  contact_email=f"{tenant_id}@sunrise.example", time_zone="America/Denver", numbers=[number])
    run_sequence(sms_ports, TenantScope(store, tenant_id), twilio_server, sms_ports.clock(), ops, business_number=number)
