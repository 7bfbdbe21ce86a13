"""The SMS consent property on the embedded backend (the model and its checks:
``consent_model.py``; the same property runs on both backends in ``tests/contract``)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings

from tests.functions.sms.consent_model import operations, run_sequence, sent_counts

EXAMPLE = [("verbal", 0, 0), ("send", 0, "follow_up"), ("inbound", 0, "HELP", None), ("inbound", 0, "STOP", None),
           ("send", 0, "follow_up"), ("verbal", 0, 0), ("send", 0, "notification"), ("inbound", 0, "START", None),
           ("replay", 0), ("send", 0, "notification"), ("tick", 11 * 60), ("send", 0, "follow_up")]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
@example(ops=EXAMPLE)
def test_no_text_without_consent_and_the_chain_always_verifies(ports, business, twilio, clock, ops):
    run_sequence(ports, business, twilio, clock, ops)


def test_the_property_run_above_really_sent_texts():
    """Guard against a vacuous pass: the random runs must have exercised both kinds of text."""
    if sent_counts["consented"] == 0 and sent_counts["replies"] == 0:
        import pytest

        pytest.skip("run together with the property test")
    assert sent_counts["consented"] > 0 and sent_counts["replies"] > 0
