"""sms_status: delivery logs from Twilio's signed callbacks, never backwards, in any order."""

from __future__ import annotations

import datetime as dt

from shared import consent
from shared.sms import send_sms
from tests.functions.sms.support import CALLER, message_sid, signed_post

NOW = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)


def sent_text(ports, business, twilio, source="call_1"):
    consent.record_sms_consent(business, CALLER, call_id="call_consent", disclosure="d", now=NOW)
    result = send_sms(ports, business, CALLER, "See you at 3.", purpose="follow_up", source=source)
    assert result.sent
    return result.sid, twilio.take_callbacks()


def post_callback(client, settings, callback):
    assert callback.url == settings.function_url("sms_status")
    return client("sms_status").post("/", data=callback.params, headers={"X-Twilio-Signature": callback.signature})


def test_the_sandbox_callbacks_move_the_message_to_delivered(client, settings, ports, business, twilio):
    sid, callbacks = sent_text(ports, business, twilio)
    assert [c.params["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    for callback in callbacks:
        assert post_callback(client, settings, callback).status_code == 204
    doc = business.get(f"messages/{sid}")
    assert doc["status"] == "delivered" and doc["terminal"]
    assert set(doc["statuses"]) == {"queued", "sent", "delivered"}


def test_out_of_order_and_duplicate_callbacks_leave_the_same_state(client, settings, ports, business, twilio):
    sid_a, callbacks_a = sent_text(ports, business, twilio, source="a")
    sid_b, callbacks_b = sent_text(ports, business, twilio, source="b")
    for callback in callbacks_a:
        post_callback(client, settings, callback)
    for callback in [*reversed(callbacks_b), callbacks_b[0], callbacks_b[-1], callbacks_b[0]]:
        assert post_callback(client, settings, callback).status_code == 204
    a, b = business.get(f"messages/{sid_a}"), business.get(f"messages/{sid_b}")
    assert a["status"] == b["status"] == "delivered"
    assert set(a["statuses"]) == set(b["statuses"])


def test_undelivered_keeps_the_error_code(client, settings, ports, business, twilio):
    twilio.undeliverable(CALLER, 30006)
    sid, callbacks = sent_text(ports, business, twilio)
    for callback in reversed(callbacks):
        post_callback(client, settings, callback)
    doc = business.get(f"messages/{sid}")
    assert doc["status"] == "undelivered" and doc["error_code"] == "30006"


def _status_params(sid, status, **extra):
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": "AC" + "0" * 32, "From": "+13035550100", "To": CALLER, "ApiVersion": "2010-04-01", **extra}


def test_a_callback_before_our_record_creates_the_message_and_later_news_never_moves_it_back(
        client, settings, business, twilio):
    sid = message_sid()
    assert signed_post(client, settings, "sms_status", _status_params(sid, "delivered")).status_code == 204
    assert signed_post(client, settings, "sms_status", _status_params(sid, "queued")).status_code == 204
    assert signed_post(client, settings, "sms_status", _status_params(sid, "sending")).status_code == 204
    doc = business.get(f"messages/{sid}")
    assert doc["status"] == "delivered" and doc["expire_at"] == NOW + dt.timedelta(days=365)


def test_forged_and_malformed_callbacks(client, settings, business, twilio):
    sid = message_sid()
    forged = signed_post(client, settings, "sms_status", _status_params(sid, "delivered"), signature="Zm9yZ2Vk")
    assert forged.status_code == 403
    assert signed_post(client, settings, "sms_status", _status_params(sid, "")).status_code == 400
    assert signed_post(client, settings, "sms_status", _status_params("SMnope", "sent")).status_code == 400
    assert signed_post(client, settings, "sms_status", _status_params(sid, "failed", ErrorCode="x")).status_code == 400
    assert business.get(f"messages/{sid}") is None


def test_a_callback_for_no_business_is_acknowledged(client, settings, business, twilio):
    params = {**_status_params(message_sid(), "sent"), "From": "+13035550199", "To": "+13035550198"}
    assert signed_post(client, settings, "sms_status", params).status_code == 204
