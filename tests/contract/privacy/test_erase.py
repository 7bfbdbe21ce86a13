"""The deletion cascade, once per backend, against the Twilio and Retell sandboxes through the
real SDKs: after an account deletion no document or blob of the tenant remains but its consent
ledger, the sandboxes saw Twilio's recordings and Retell's calls deleted, and a replay is a
no-op; after a caller deletion the number's data is gone, another caller's stays, and the send
gate refuses a text to the number."""

from __future__ import annotations

import uuid

import pytest

from shared.ports import FixedClock, Query
from shared.privacy import holds
from shared.privacy.erase import DeletionRefused, erase_account, erase_caller
from shared.runtime import Ports
from shared.sms.gate import send_sms
from shared.tenants import TenantScope
from tests.contract.privacy.data import CALLER, OTHER, business
from tests.contract.retention_data import snapshot

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
    # this business had no Stripe customer and no QuickBooks or Calendar connection: asked, nothing to erase
    assert cert.providers == {"twilio.recordings": 3, "retell.calls": 3, "stripe.customer": 0,
                              "quickbooks.grant": 0, "google_calendar.grant": 0}
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
