"""Retell events merged into the call record: any order and any repetition of the same events
ends in the same document (the pure part of retell_webhook)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from pydantic import ValidationError

from shared.voice.agent_payloads import RetellCall
from shared.voice.agent_webhook import action_text, dedup_id, event_patch

NOW = dt.datetime(2026, 3, 5, 21, 10, tzinfo=dt.timezone.utc)

BASE = {"call_id": "rc_1", "agent_id": "agent_1", "from_number": "+13035550199", "to_number": "+13035550100",
        "metadata": {"tenant_id": "t_1", "call_sid": "CA1"}, "start_timestamp": 1772744400000}
TRANSCRIPT = [{"role": "agent", "content": "Thanks for calling Sunrise Plumbing."},
              {"role": "user", "content": "I need someone to look at my water heater."}]
ENDED = {**BASE, "call_status": "ended", "end_timestamp": 1772744525000, "duration_ms": 125000,
         "transcript": "Agent: Thanks for calling Sunrise Plumbing.\nUser: I need someone to look at my water heater.",
         "transcript_object": TRANSCRIPT, "disconnection_reason": "user_hangup",
         "recording_url": "https://recordings.example/rc_1.wav",
         "call_cost": {"combined_cost": 17.5, "total_duration_seconds": 125, "product_costs": [],
                       "total_duration_unit_price": 0.14}}
PAYLOADS = {
    "call_started": {**BASE, "call_status": "ongoing"},
    "transfer_started": {**BASE, "call_status": "ongoing", "transfer_destination": "+13035550111"},
    "transfer_bridged": {**BASE, "call_status": "ongoing", "transfer_destination": "+13035550111"},
    "call_ended": ENDED,
    "call_analyzed": {**ENDED, "call_analysis": {"call_summary": "Booked a water heater inspection.",
                                                 "user_sentiment": "Positive", "call_successful": True,
                                                 "in_voicemail": False,
                                                 "custom_analysis_data": {"service": "water heater"}}},
}


def play(events: list[str]) -> dict:
    """What retell_webhook does to the document: dedup, then merge the patch (set merge=True)."""
    doc: dict = {}
    seen: set[str] = set()
    for event in events:
        call = RetellCall.model_validate(PAYLOADS[event])
        key = dedup_id(event, call)
        if key in seen:
            continue
        seen.add(key)
        doc = {**doc, **event_patch(doc, event, call, NOW)}
    return doc


def test_the_usual_order_fills_every_field():
    doc = play(["call_started", "transfer_started", "transfer_bridged", "call_ended", "call_analyzed"])
    assert doc["retell_status"] == "ended"
    assert doc["transcript"] == TRANSCRIPT and doc["transcript_text"].startswith("Agent: Thanks")
    assert doc["summary"] == "Booked a water heater inspection." and doc["sentiment"] == "Positive"
    assert doc["success"] is True and doc["extracted_data"] == {"service": "water heater"}
    assert doc["disconnection_reason"] == "user_hangup"
    assert doc["cost"] == {"cents": 17.5, "duration_seconds": 125}
    assert doc["retell_duration_ms"] == 125000
    assert doc["retell_started_at"] == dt.datetime(2026, 3, 5, 21, 0, tzinfo=dt.timezone.utc)
    assert doc["transfer"]["status"] == "bridged" and doc["transfer"]["destination"] == "+13035550111"
    assert set(doc["retell_events"]) == set(PAYLOADS)
    assert doc["retell_completed_at"] == NOW


def test_analyzed_before_ended_gives_the_same_document():
    usual = play(["call_started", "call_ended", "call_analyzed"])
    assert play(["call_started", "call_analyzed", "call_ended"]) == usual


def test_call_started_late_does_not_move_the_status_back():
    doc = play(["call_ended", "call_started"])
    assert doc["retell_status"] == "ended"
    assert "retell_completed_at" not in doc  # analysis not seen yet


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(sorted(PAYLOADS)), min_size=1, max_size=12))
def test_any_order_and_repetition_of_the_same_events_ends_the_same(events):
    distinct = sorted(set(events))
    reference = play(distinct)
    assert play(events) == reference
    for perm in itertools.islice(itertools.permutations(distinct), 24):
        assert play(list(perm)) == reference


def test_action_lines_are_readable():
    ended = RetellCall.model_validate(ENDED)
    assert action_text("call_ended", ended) == "The call with the AI receptionist ended after 2 min 5 s (user hangup)"
    analyzed = RetellCall.model_validate(PAYLOADS["call_analyzed"])
    assert action_text("call_analyzed", analyzed) == "Call analysed: successful, caller sentiment positive"


@pytest.mark.parametrize("changes", [
    {"call_cost": {"combined_cost": float("inf")}}, {"call_cost": {"total_duration_seconds": float("nan")}},
    {"start_timestamp": 2**64}, {"end_timestamp": -1}, {"duration_ms": 10**15},
    {"call_analysis": {"custom_analysis_data": {"score": float("inf")}}},
    {"call_analysis": {"custom_analysis_data": {"n": 2**70}}},
])
def test_a_call_object_the_stores_could_not_hold_is_refused(changes):
    """Calls that do not arrive as a webhook body (call_finalize reads them from Retell's API)
    meet the same limits: no infinity, no NaN, no time outside 1970..9999 reaches a store."""
    with pytest.raises(ValidationError):
        RetellCall.model_validate({**ENDED, **changes})
