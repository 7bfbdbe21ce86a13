"""``scripts/ops consent show``: the history with the chain check, and a broken chain flagged."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import consent, runtime
from shared.tenants import TenantScope, create_tenant
from tools import ops

T0 = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def scope(ports):
    runtime.use(ports)
    tenant = create_tenant(ports.store(), tenant_id="t_ops", name="Sunrise Plumbing", contact_name="Dana",
                           contact_email="dana@sunrise.example", numbers=["+13035550100"])
    yield TenantScope(ports.store(), tenant.id)
    runtime.reset()


def test_consent_show_prints_the_history_and_the_chain_check(scope, capsys):
    consent.record_sms_consent(scope, "+13035550142", call_id="call_7", disclosure="May we text you?", now=T0)
    consent.record(scope, "+13035550142", action="opt_out", method="keyword", disclosure="You are unsubscribed.",
                   source_type="message", source_id="SM" + "a" * 32, keyword="STOP", now=T0 + dt.timedelta(hours=1))
    assert ops.main(["consent", "show", "--tenant", "t_ops", "--number", "(303) 555-0142"]) == 0
    out = capsys.readouterr().out
    assert "current state: opted_out" in out
    assert "#1" in out and "opt_in" in out and "verbal" in out and "call call_7" in out and "'May we text you?'" in out
    assert "#2" in out and "(STOP)" in out and "chain: OK (2 events" in out


def test_consent_show_flags_a_broken_chain(scope, capsys):
    consent.record_sms_consent(scope, "+13035550142", call_id="call_7", disclosure="May we text you?", now=T0)
    scope.update("consent/+13035550142/events/00000001", {"disclosure": "edited later"})
    assert ops.main(["consent", "show", "--tenant", "t_ops", "--number", "+13035550142"]) == 3
    assert "chain: BROKEN at event 1" in capsys.readouterr().out


def test_consent_show_for_a_number_never_asked(scope, capsys):
    assert ops.main(["consent", "show", "--tenant", "t_ops", "--number", "+13035550142", "--json"]) == 0
    assert '"state": "never_asked"' in capsys.readouterr().out
