"""The consent ledger: state + hash-chained history in one transaction, idempotent per source,
tamper detection by ``verify_chain``, 5-year expiry of the whole chain.

Written against the ``ports`` fixture only, so ``tests/contract/test_consent_ledger.py`` runs
the same tests on both backends (SQLite and the Firestore emulator)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from shared import consent
from shared.consent import ConsentState, GENESIS, event_hash
from shared.tenants import TenantScope, create_tenant

T0 = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)
CALLER = "+13035550142"
DISCLOSURE = "  May Sunrise Plumbing text you about this call? Msg & data rates may apply. Reply STOP to opt out.\n"


@pytest.fixture
def scope(ports):
    store = ports.store()
    tenant = create_tenant(store, name="Sunrise Plumbing", contact_name="Dana", contact_email=f"d{uuid.uuid4().hex[:8]}@x.example",
                           tenant_id=f"t_{uuid.uuid4().hex[:12]}", owner=False)
    return TenantScope(store, tenant.id)


def _toggle(scope, n: int, number: str = CALLER) -> None:
    for i in range(n):
        consent.record(scope, number, action="opt_in" if i % 2 == 0 else "opt_out",
                       method="verbal" if i % 2 == 0 else "keyword", disclosure=f"text {i}",
                       source_type="call" if i % 2 == 0 else "message", source_id=f"src{i}",
                       now=T0 + dt.timedelta(minutes=i))


def test_a_number_never_asked_has_an_empty_valid_chain(scope):
    assert consent.current_state(scope, CALLER) == ConsentState.never_asked
    report = consent.verify_chain(scope, CALLER)
    assert report.ok and report.length == 0 and report.state == ConsentState.never_asked


def test_verbal_consent_is_recorded_with_the_exact_disclosure(scope):
    result = consent.record_sms_consent(scope, "(303) 555-0142", call_id="call_abc", disclosure=DISCLOSURE, now=T0)
    assert result.created and result.state == ConsentState.opted_in
    [event] = consent.history(scope, CALLER)
    assert event.number == CALLER and event.method == "verbal" and event.source_type == "call"
    assert event.source_id == "call_abc" and event.at == T0
    assert event.disclosure == DISCLOSURE  # byte for byte, whitespace included
    assert event.prev_hash == GENESIS and event.hash == event_hash(event.hashed_fields())
    record = consent.get_record(scope, CALLER)
    assert record.state == ConsentState.opted_in and record.seq == 1 and record.head_hash == event.hash


def test_events_chain_and_the_state_follows_the_last_one(scope):
    _toggle(scope, 3)
    events = consent.history(scope, CALLER)
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.action for e in events] == ["opt_in", "opt_out", "opt_in"]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert consent.current_state(scope, CALLER) == ConsentState.opted_in
    report = consent.verify_chain(scope, CALLER)
    assert report.ok and report.length == 3


def test_the_same_source_recorded_twice_is_one_event(scope):
    first = consent.record_sms_consent(scope, CALLER, call_id="call_1", disclosure="d", now=T0)
    again = consent.record_sms_consent(scope, CALLER, call_id="call_1", disclosure="d", now=T0 + dt.timedelta(seconds=5))
    assert first.created and not again.created and again.event.hash == first.event.hash
    # the same source with another action is another event (a STOP on the same call)
    revoked = consent.record_sms_revocation(scope, CALLER, call_id="call_1", now=T0 + dt.timedelta(minutes=1))
    assert revoked.created and revoked.state == ConsentState.opted_out
    assert len(consent.history(scope, CALLER)) == 2
    assert consent.verify_chain(scope, CALLER).ok


def test_the_whole_chain_expires_five_years_after_the_last_event(scope):
    _toggle(scope, 3)
    last = T0 + dt.timedelta(minutes=2)
    expected = last + consent.RETENTION
    assert consent.RETENTION >= dt.timedelta(days=5 * 365)
    assert all(e.expire_at == expected for e in consent.history(scope, CALLER))
    assert scope.get(consent.state_path(CALLER))["expire_at"] == expected


def test_state_and_history_commit_together_or_not_at_all(scope):
    class Boom(Exception):
        pass

    def fail_after_recording(tx):
        consent.record_in(tx, scope.tenant_id, CALLER, action="opt_out", method="keyword", disclosure="x",
                          source_type="message", source_id="SM1", now=T0)
        raise Boom()

    with pytest.raises(Boom):
        scope.transaction(fail_after_recording)
    assert consent.current_state(scope, CALLER) == ConsentState.never_asked
    assert consent.history(scope, CALLER) == []


def test_an_altered_event_is_detected(scope):
    _toggle(scope, 3)
    scope.update(f"consent/{CALLER}/events/00000002", {"disclosure": "something else"})
    report = consent.verify_chain(scope, CALLER)
    assert not report.ok and report.broken_at == 2 and "altered" in report.reason


def test_an_altered_time_is_detected(scope):
    _toggle(scope, 3)
    scope.update(f"consent/{CALLER}/events/00000001", {"at": T0 - dt.timedelta(days=30)})
    assert consent.verify_chain(scope, CALLER).broken_at == 1


def test_a_rehashed_event_breaks_the_next_link(scope):
    _toggle(scope, 3)
    path = f"consent/{CALLER}/events/00000002"
    event = consent.ConsentEvent.from_doc(scope.get(path))
    event.method = "web"
    event.hash = event_hash(event.hashed_fields())  # a careful forger recomputes the hash ...
    scope.set(path, event.to_doc())
    report = consent.verify_chain(scope, CALLER)  # ... and event 3 no longer links to it
    assert not report.ok and report.broken_at == 3 and "link" in report.reason


def test_a_deleted_event_is_detected(scope):
    _toggle(scope, 3)
    scope.delete(f"consent/{CALLER}/events/00000002")
    report = consent.verify_chain(scope, CALLER)
    assert not report.ok and report.broken_at == 2 and "missing" in report.reason


def test_a_truncated_history_is_detected(scope):
    _toggle(scope, 3)
    scope.delete(f"consent/{CALLER}/events/00000003")
    report = consent.verify_chain(scope, CALLER)
    assert not report.ok and report.broken_at == 3 and report.length == 2


def test_an_altered_state_is_detected(scope):
    _toggle(scope, 2)  # opted out
    scope.update(consent.state_path(CALLER), {"state": "opted_in"})
    report = consent.verify_chain(scope, CALLER)
    assert not report.ok and report.broken_at == 3 and "state" in report.reason


def test_a_history_without_state_is_detected(scope):
    _toggle(scope, 1)
    scope.delete(consent.state_path(CALLER))
    assert not consent.verify_chain(scope, CALLER).ok


def test_ledgers_are_per_tenant(ports, scope):
    other = create_tenant(ports.store(), name="Other", contact_name="O", contact_email=f"o{uuid.uuid4().hex[:8]}@x.example",
                          tenant_id=f"t_{uuid.uuid4().hex[:12]}", owner=False)
    other_scope = TenantScope(ports.store(), other.id)
    consent.record_sms_consent(scope, CALLER, call_id="c1", disclosure="d", now=T0)
    assert consent.current_state(other_scope, CALLER) == ConsentState.never_asked
    # the same events copied into another tenant do not verify there: the tenant is hashed in
    for event in consent.history(scope, CALLER):
        other_scope.set(consent.event_path(CALLER, event.seq), event.to_doc())
    other_scope.set(consent.state_path(CALLER), scope.get(consent.state_path(CALLER)))
    assert not consent.verify_chain(other_scope, CALLER).ok


def test_numbers_are_keyed_in_e164_and_invalid_ones_refused(scope):
    consent.record_sms_consent(scope, "303-555-0142", call_id="c1", disclosure="d", now=T0)
    assert consent.current_state(scope, "+1 (303) 555-0142") == ConsentState.opted_in
    # a STOP from abroad is still recorded
    consent.record(scope, "+44 20 7183 8750", action="opt_out", method="keyword", disclosure="x",
                   source_type="message", source_id="SM2", now=T0)
    assert consent.current_state(scope, "+442071838750") == ConsentState.opted_out
    for bad in ("", "12", "not a number", "+1555"):
        with pytest.raises(consent.InvalidNumber):
            consent.record_sms_consent(scope, bad, call_id="c2", disclosure="d", now=T0)


def test_verbal_consent_needs_a_disclosure(scope):
    with pytest.raises(ValueError):
        consent.record_sms_consent(scope, CALLER, call_id="c1", disclosure="  ", now=T0)


def test_an_opt_out_is_recorded_even_on_a_damaged_chain(scope):
    _toggle(scope, 3)
    scope.delete(f"consent/{CALLER}/events/00000002")
    consent.record(scope, CALLER, action="opt_out", method="keyword", disclosure="x", source_type="message",
                   source_id="SMlate", now=T0 + dt.timedelta(hours=1))
    assert consent.current_state(scope, CALLER) == ConsentState.opted_out  # honoured ...
    assert consent.verify_chain(scope, CALLER).broken_at == 2  # ... and the damage still shows
