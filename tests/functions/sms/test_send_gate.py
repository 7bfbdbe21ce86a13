"""The one send gate, against the Twilio sandbox through the real SDK."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from shared import consent
from shared.idempotency import InProgress
from shared.models.tenant import TenantStatus
from shared.providers.twilio import TwilioUnavailable
from shared.sms import BlockReason, send_sms
from shared.sms.gate import send_key
from shared.tenants import set_status
from tests.functions.sms.support import BUSINESS_NUMBER, CALLER

UTC = dt.timezone.utc
ELEVEN_AM_DENVER = dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def opt_in(scope, number=CALLER, call_id="call_1", now=ELEVEN_AM_DENVER):
    consent.record_sms_consent(scope, number, call_id=call_id, disclosure="May we text you? ...", now=now)


def send(ports, scope, to=CALLER, body="Your plumber is on the way.", purpose="follow_up", source="call_1", **kw):
    return send_sms(ports, scope, to, body, purpose=purpose, source=source, **kw)


def test_a_number_that_never_opted_in_is_refused_and_the_refusal_recorded(ports, business, twilio, caplog):
    caplog.set_level(logging.INFO, logger="z3.sms")
    result = send(ports, business)
    assert not result.sent and result.reason == BlockReason.not_opted_in
    assert twilio.messages == {}
    doc = business.get(f"messages/{result.message_id}")
    assert doc["status"] == "blocked" and doc["blocked_reason"] == "not_opted_in" and doc["direction"] == "outbound"
    assert doc["expire_at"] == ELEVEN_AM_DENVER + dt.timedelta(days=365)
    refusals = [r for r in caplog.records if r.getMessage() == "sms refused by the send gate"]
    assert refusals and refusals[-1].reason == "not_opted_in"
    # the log says why, never to whom or what
    assert all("5550142" not in str(v) and "plumber" not in str(v) for r in refusals for v in vars(r).values())


def test_an_opted_in_number_gets_the_text_with_a_status_callback(ports, business, twilio):
    opt_in(business)
    result = send(ports, business)
    assert result.sent and result.status == "sent" and result.sid.startswith("SM")
    [sent] = twilio.sent_to(CALLER)
    assert sent["from"] == BUSINESS_NUMBER and sent["body"] == "Your plumber is on the way."
    [request] = [r for r in twilio.requests if r.method == "POST"]
    assert request.form["StatusCallback"] == ["https://z3.example/sms_status"]
    doc = business.get(f"messages/{result.sid}")
    assert doc["status"] == "queued" and doc["to"] == CALLER and doc["purpose"] == "follow_up"
    assert doc["expire_at"] == ELEVEN_AM_DENVER + dt.timedelta(days=365)


def test_an_opted_out_number_is_refused(ports, business, twilio):
    opt_in(business)
    consent.record(business, CALLER, action="opt_out", method="keyword", disclosure="x", source_type="message",
                   source_id="SM1", now=ELEVEN_AM_DENVER)
    result = send(ports, business)
    assert result.reason == BlockReason.opted_out and twilio.messages == {}


def test_quiet_hours_refuse_and_say_when_to_retry(ports, business, twilio):
    late = dt.datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 22:00 in Denver
    opt_in(business, now=late)
    result = send(ports, business, now=late)
    assert result.reason == BlockReason.quiet_hours
    assert result.retry_at == dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 8:00 in Denver
    assert twilio.messages == {}
    # the same follow-up at the suggested time goes out
    assert send(ports, business, now=result.retry_at).sent


def test_quiet_hours_follow_the_recipients_area_code_not_the_business(ports, business, twilio):
    early = dt.datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # 06:30 in Denver, 08:30 in New York
    new_yorker = "+12125550142"
    opt_in(business, CALLER, now=early)
    opt_in(business, new_yorker, call_id="call_2", now=early)
    assert send(ports, business, CALLER, now=early).reason == BlockReason.quiet_hours
    assert send(ports, business, new_yorker, source="call_2", now=early).sent


def test_a_toll_free_recipient_uses_the_business_zone(ports, business, twilio):
    early = dt.datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # 06:30 in Denver
    opt_in(business, "+18005550142", now=early)
    assert send(ports, business, "+18005550142", now=early).reason == BlockReason.quiet_hours


@pytest.mark.parametrize("to", ["+1555", "hello", "", "+442071838750"])
def test_invalid_and_non_us_numbers_are_refused(ports, business, twilio, to):
    result = send(ports, business, to=to)
    assert result.reason == BlockReason.invalid_number and twilio.requests == []


def test_a_business_out_of_service_sends_nothing(ports, business, twilio):
    opt_in(business)
    set_status(ports.store(), business.tenant_id, TenantStatus.suspended, "unpaid")
    assert send(ports, business).reason == BlockReason.tenant_not_in_service
    assert send(ports, business, from_number="+13035550199").reason == BlockReason.tenant_not_in_service


def test_a_text_is_sent_once_per_purpose_source_and_recipient(ports, business, twilio):
    opt_in(business)
    first = send(ports, business)
    again = send(ports, business)
    assert again.status == "duplicate" and again.sid == first.sid
    assert len(twilio.sent_to(CALLER)) == 1
    assert send(ports, business, source="call_2").sent  # another follow-up is another text
    assert len(twilio.sent_to(CALLER)) == 2


def test_a_send_in_flight_makes_a_concurrent_duplicate_wait(ports, business, twilio):
    opt_in(business)
    key = send_key("follow_up", "call_1", CALLER)
    business.set(f"sms_sends/{key}", {"state": "sending", "lease_until": ELEVEN_AM_DENVER + dt.timedelta(minutes=1)})
    with pytest.raises(InProgress):
        send(ports, business)
    # after the lease (the first attempt died) a retry sends
    assert send(ports, business, now=ELEVEN_AM_DENVER + dt.timedelta(minutes=3)).sent


def test_reply_is_not_a_way_around_consent(ports, business, twilio):
    # no stored inbound message with that sid from that number: an ordinary text, consent needed
    assert send(ports, business, purpose="reply", source="SM" + "1" * 32).reason == BlockReason.not_opted_in
    # an inbound STOP from someone else does not let us text this number
    business.set("messages/SM" + "2" * 32, {"direction": "inbound", "from": "+13035550177", "to": BUSINESS_NUMBER,
                                            "intent": "opt_out", "received_at": ELEVEN_AM_DENVER})
    assert send(ports, business, purpose="reply", source="SM" + "2" * 32).reason == BlockReason.not_opted_in
    # the person who texted HELP gets the help reply owed to it: within the reply window, those words only
    help_text = "Sunrise Plumbing: Texts about your calls. Reply STOP to opt out."
    business.set("messages/SM" + "3" * 32, {"direction": "inbound", "from": CALLER, "to": BUSINESS_NUMBER,
                                            "intent": "help", "received_at": ELEVEN_AM_DENVER,
                                            "reply": {"state": "pending", "body": help_text}})
    later = ELEVEN_AM_DENVER + dt.timedelta(hours=2)
    assert send(ports, business, body=help_text, purpose="reply", source="SM" + "3" * 32,
                now=later).reason == BlockReason.not_opted_in
    assert send(ports, business, body="Big sale this weekend!", purpose="reply",
                source="SM" + "3" * 32).reason == BlockReason.not_opted_in
    assert send(ports, business, body=help_text, purpose="reply", source="SM" + "3" * 32).sent
    assert twilio.sent_to(CALLER)[0]["from"] == BUSINESS_NUMBER
    # when Twilio has answered the keyword itself, nothing is owed
    business.set("messages/SM" + "4" * 32, {"direction": "inbound", "from": CALLER, "to": BUSINESS_NUMBER,
                                            "intent": "opt_out", "received_at": ELEVEN_AM_DENVER,
                                            "reply": {"state": "provider_replied", "body": "You are unsubscribed."}})
    assert send(ports, business, body="You are unsubscribed.", purpose="reply",
                source="SM" + "4" * 32).reason == BlockReason.not_opted_in


def test_a_carrier_unsubscribe_is_recorded_in_the_ledger(ports, business, twilio):
    opt_in(business)
    twilio.unsubscribe(CALLER)
    result = send(ports, business)
    assert result.reason == BlockReason.opted_out and result.error_code == 21610
    assert consent.current_state(business, CALLER) == consent.ConsentState.opted_out
    last = consent.history(business, CALLER)[-1]
    assert last.method == "carrier" and last.action == "opt_out"
    assert consent.verify_chain(business, CALLER).ok
    requests_before = len(twilio.requests)
    assert send(ports, business, source="call_2").reason == BlockReason.opted_out
    assert len(twilio.requests) == requests_before  # refused before Twilio


def test_twilio_rejecting_the_number_is_invalid_number(ports, business, twilio):
    opt_in(business)
    twilio.fail_next(status=400, code=21614, message="'To' number is not a valid mobile number")
    result = send(ports, business)
    assert result.reason == BlockReason.invalid_number and result.error_code == 21614
    assert business.get(f"messages/{result.message_id}")["error_code"] == "21614"


def test_twilio_down_raises_to_retry_and_the_retry_sends_once(ports, business, twilio):
    opt_in(business)
    twilio.fail_next(times=1, status=503)
    with pytest.raises(TwilioUnavailable):
        send(ports, business)
    assert twilio.messages == {}
    result = send(ports, business)
    assert result.status == "sent" and len(twilio.sent_to(CALLER)) == 1


def test_twilio_unreachable_is_unavailable(settings, ports, business, clock):
    from shared.runtime import Ports

    opt_in(business)
    dead = Ports(settings.model_copy(update={"twilio_api_base_url": "http://127.0.0.1:9"})).provide(
        store=ports.store(), clock=clock)
    with pytest.raises(TwilioUnavailable):
        send(dead, business)


def test_bad_arguments_are_programming_errors(ports, business):
    with pytest.raises(ValueError):
        send(ports, business, purpose="marketing")
    with pytest.raises(ValueError):
        send(ports, business, source="a/b")
    with pytest.raises(ValueError):
        send(ports, business, body="  ")
