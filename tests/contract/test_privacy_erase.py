"""The deletion cascade, once per backend, against the Twilio and Retell sandboxes through the
real SDKs: after an account deletion no document or blob of the tenant remains but its consent
ledger, the sandboxes saw Twilio's recordings and Retell's calls deleted, and a replay is a
no-op; after a caller deletion the number's data is gone, another caller's stays, and the send
gate refuses a text to the number."""

from __future__ import annotations

import uuid

import pytest

from shared import consent, tenants
from shared.accounts import sessions
from shared.ports import FixedClock, Query
from shared.privacy import holds
from shared.privacy.erase import DeletionRefused, erase_account, erase_caller
from shared.providers import retell
from shared.runtime import Ports
from shared.sms.gate import send_sms
from shared.tenants import TenantScope
from shared.voice.ingest import blob_path
from tests.contract.retention_data import snapshot

CALLER, OTHER = "+17205550111", "+17205550112"


@pytest.fixture(scope="module")
def sandboxes():
    from shared.config import Settings
    from tools.sandboxes.retell import RetellSandbox
    from tools.sandboxes.twilio import TwilioSandbox

    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="off") as twilio, \
            RetellSandbox() as retell_box:
        yield twilio, retell_box


@pytest.fixture
def erase_ports(ports, sandboxes):
    twilio, retell_box = sandboxes
    twilio.reset()
    retell_box.reset()
    settings = ports.settings.model_copy(update={"twilio_api_base_url": twilio.url, "retell_base_url": retell_box.url,
                                                 "public_base_url": "https://z3.example"})
    return Ports(settings).provide(store=ports.store(), blobs=ports.blobs(), clock=FixedClock(),
                                   tasks=ports.tasks())


def business(p: Ports, sandboxes, tenant_id: str, number: str) -> dict[str, list[str]]:
    """A business with two callers' calls (a recording at Twilio, ours, Retell's call), texts,
    contacts, an appointment, consent, a user with a session, and the global indexes."""
    twilio, _ = sandboxes
    store, now = p.store(), p.clock().now()
    tenants.create_tenant(store, tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana",
                          contact_email=f"{tenant_id}@sunrise.example", numbers=[number])
    scope = TenantScope(store, tenant_id)
    made: dict[str, list[str]] = {"recordings": [], "retell": []}
    for n, caller in enumerate([CALLER, CALLER, OTHER]):
        sid = f"CA{uuid.uuid4().hex}"
        rec = twilio.add_recording(call_sid=sid)
        retell_id = retell.register_call(p.settings, agent_id="agent_1", from_number=caller, to_number=number,
                                         metadata={"tenant_id": tenant_id, "call_sid": sid}, dynamic_variables={})
        blob = blob_path(tenant_id, sid, rec)
        p.blobs().put(blob, b"RIFF", content_type="audio/wav")
        scope.set(f"calls/{sid}", {"call_sid": sid, "from": caller, "to": number, "created_at": now,
                                   "retell_call_id": retell_id, "transcript": "hello",
                                   "recordings": [{"recording_sid": rec, "source": "twilio", "blob_path": blob}]})
        scope.set(f"call_facts/{sid}", {"call_sid": sid, "from": caller})
        store.set(f"retell_calls/{retell_id}", {"tenant_id": tenant_id, "call_sid": sid})
        scope.set(f"appointments/ap{n}", {"customer_phone": caller, "call_sid": sid, "start": now})
        if caller == CALLER:
            made["recordings"].append(rec)
            made["retell"].append(retell_id)
        made.setdefault(caller, []).extend([f"tenants/{tenant_id}/calls/{sid}", f"tenants/{tenant_id}/call_facts/{sid}",
                                            f"tenants/{tenant_id}/appointments/ap{n}", blob])
    for n, caller in enumerate([CALLER, OTHER]):
        scope.set(f"messages/SM{n}", {"from": caller, "to": number, "body": "hi", "expire_at": now})
        scope.set(f"contacts/{caller}", {"name": "Pat", "phone": caller})
        made[caller] += [f"tenants/{tenant_id}/messages/SM{n}", f"tenants/{tenant_id}/contacts/{caller}"]
        consent.record_sms_consent(scope, caller, call_id="CA_c", disclosure="May we text you?", now=now)
    owner = next(iter(store.stream(Query(f"tenants/{tenant_id}/users"))))
    sessions.create(store, now, tenant_id=tenant_id, user_id=owner.id, role="owner")
    store.set(f"email_messages/re_{uuid.uuid4().hex[:8]}", {"tenant_id": tenant_id, "email_id": "em1"})
    return made


def globals_of(store, tenant_id: str) -> list[str]:
    return [doc.path for name in ("phone_numbers", "user_logins", "sessions", "retell_calls", "email_messages")
            for doc in store.stream(Query(name).where("tenant_id", "==", tenant_id))]


def test_an_account_deletion_leaves_only_the_consent_ledger(erase_ports, sandboxes):
    twilio, retell_box = sandboxes
    tid, other = "t_del_" + uuid.uuid4().hex[:6], "t_keep_" + uuid.uuid4().hex[:6]
    made = business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    business(erase_ports, sandboxes, other, "+1303555" + str(uuid.uuid4().int)[:4])
    before_other = snapshot(erase_ports, [other])
    store = erase_ports.store()

    cert = erase_account(erase_ports, tenant_id=tid, job_id="job_" + tid)

    left = snapshot(erase_ports, [tid])
    assert left and all(path.startswith(f"tenants/{tid}/consent/") for path in left), sorted(left)
    assert globals_of(store, tid) == []
    assert store.get(f"deleted_tenants/{tid}")["certificate"] == "job_" + tid
    assert set(made["recordings"]) <= set(twilio.deleted_recordings)
    assert set(made["retell"]) <= retell_box.deleted
    assert snapshot(erase_ports, [other]) == before_other  # nothing of another tenant
    assert cert.completed_at and cert.deleted["calls"] == 3 and cert.blobs == 3
    assert cert.providers == {"twilio.recordings": 3, "retell.calls": 3}
    assert any("consent" in k["what"] for k in cert.kept)

    replay = erase_account(erase_ports, tenant_id=tid, job_id="job_" + tid)
    assert replay.to_doc() == cert.to_doc() and snapshot(erase_ports, [tid]) == left


def test_an_account_deletion_killed_half_way_finishes_on_retry(erase_ports, sandboxes):
    tid = "t_half_" + uuid.uuid4().hex[:6]
    business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    real = erase_ports.store()

    class Dies:
        commits = 0

        def __getattr__(self, name):
            return getattr(real, name)

        def batch(self):
            inner, outer = real.batch(), self

            class B:
                def __getattr__(self, name):
                    return getattr(inner, name)

                def commit(self):
                    outer.commits += 1
                    if outer.commits == 3:
                        raise KeyboardInterrupt  # the instance died
                    inner.commit()
            return B()

    dying = Ports(erase_ports.settings).provide(store=Dies(), blobs=erase_ports.blobs(), clock=FixedClock())
    with pytest.raises(KeyboardInterrupt):
        erase_account(dying, tenant_id=tid, job_id="job_" + tid)
    cert = erase_account(erase_ports, tenant_id=tid, job_id="job_" + tid)
    assert cert.completed_at and cert.deleted["calls"] == 3
    assert all(p.startswith(f"tenants/{tid}/consent/") for p in snapshot(erase_ports, [tid]))


def test_a_tenant_hold_refuses_the_deletion_and_a_call_hold_keeps_that_call(erase_ports, sandboxes):
    tid = "t_hold_" + uuid.uuid4().hex[:6]
    made = business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    store, now = erase_ports.store(), erase_ports.clock().now()
    hold = holds.place(store, now, tenant_id=tid, kind="tenant", target=None, reason="litigation", placed_by="ops")
    with pytest.raises(DeletionRefused):
        erase_account(erase_ports, tenant_id=tid, job_id="job_a_" + tid)
    assert store.get(f"tenants/{tid}") is not None
    holds.release(store, now, tenant_id=tid, hold_id=hold.id, released_by="ops")
    held_call = made[OTHER][0].rsplit("/", 1)[1]
    holds.place(store, now, tenant_id=tid, kind="call", target=held_call, reason="subpoena", placed_by="ops")
    cert = erase_account(erase_ports, tenant_id=tid, job_id="job_b_" + tid)
    left = snapshot(erase_ports, [tid])
    assert made[OTHER][0] in left and made[OTHER][3] in left  # the held call and its recording
    assert made[CALLER][0] not in left and cert.held >= 1


def test_a_caller_deletion_removes_the_number_and_the_gate_refuses_it(erase_ports, sandboxes):
    twilio, retell_box = sandboxes
    tid = "t_caller_" + uuid.uuid4().hex[:6]
    number = "+1303555" + str(uuid.uuid4().int)[:4]
    made = business(erase_ports, sandboxes, tid, number)
    scope = TenantScope(erase_ports.store(), tid)

    cert = erase_caller(erase_ports, tenant_id=tid, number=CALLER, job_id="job_c_" + tid)

    left = snapshot(erase_ports, [tid])
    assert not (set(made[CALLER]) & set(left)), sorted(set(made[CALLER]) & set(left))
    assert set(made[OTHER]) <= set(left)
    assert f"tenants/{tid}/consent/{CALLER}" in left  # the suppression is kept
    assert set(made["recordings"]) <= set(twilio.deleted_recordings) and set(made["retell"]) <= retell_box.deleted
    assert cert.subject.endswith(CALLER[-4:]) and CALLER not in str(cert.to_doc())
    result = send_sms(erase_ports, scope, CALLER, "Your appointment is tomorrow", purpose="follow_up", source="t1")
    assert result.status == "blocked" and not twilio.sent_to(CALLER)
    assert erase_caller(erase_ports, tenant_id=tid, number=CALLER, job_id="job_c_" + tid).to_doc() == cert.to_doc()
