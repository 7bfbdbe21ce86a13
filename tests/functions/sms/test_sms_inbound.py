"""sms_inbound through functions-framework's test client, with real Twilio signatures."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared import consent
from shared.consent import ConsentState
from shared.ports import StoreUnavailable
from shared.sms import texts
from tests.functions.sms.support import BUSINESS_NUMBER, CALLER, inbound_params, message_sid, signed_post

NOW = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def post(client, settings, body, **kw):
    params = inbound_params(body, **kw)
    return params, signed_post(client, settings, "sms_inbound", params)


def queued_notifications(settings) -> list[dict]:
    from shared.adapters.local.db import database

    rows = database(settings.z3_data_dir).read("SELECT target, body FROM tasks")
    return [json.loads(body) for target, body in rows if target == "notify"]


def test_stop_opts_out_and_confirms_once(client, settings, business, twilio):
    params, response = post(client, settings, "STOP")
    assert response.status_code == 200 and response.data == EMPTY_TWIML
    assert response.headers["Content-Type"].startswith("text/xml")
    stored = business.get(f"messages/{params['MessageSid']}")
    assert stored["direction"] == "inbound" and stored["from"] == CALLER and stored["to"] == BUSINESS_NUMBER
    assert stored["body"] == "STOP" and stored["expire_at"] == NOW + dt.timedelta(days=365)
    assert stored["received_at"] == NOW and stored["intent"] == "opt_out"
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    [event] = consent.history(business, CALLER)
    expected = texts.opt_out_confirmation("Sunrise Plumbing")
    assert event.method == "keyword" and event.source_id == params["MessageSid"] and event.keyword == "STOP"
    assert event.disclosure == expected
    [reply] = twilio.sent_to(CALLER)
    assert reply["body"] == expected and reply["from"] == BUSINESS_NUMBER
    assert business.get(f"messages/{params['MessageSid']}")["reply"]["state"] == "sent"
    assert queued_notifications(settings) == []  # keywords are not forwarded


def test_start_opts_in_with_frequency_rates_and_how_to_stop(client, settings, business, twilio):
    post(client, settings, "start")
    assert consent.current_state(business, CALLER) == ConsentState.opted_in
    [reply] = twilio.sent_to(CALLER)
    body = reply["body"]
    assert body.startswith("Sunrise Plumbing:") and "Msg frequency varies" in body
    assert "Msg & data rates may apply" in body and "STOP" in body
    assert consent.history(business, CALLER)[0].disclosure == body


def test_help_answers_with_business_how_to_stop_and_how_to_get_help(client, settings, business, twilio):
    consent.record(business, CALLER, action="opt_out", method="keyword", disclosure="x", source_type="message",
                   source_id="SMearlier", now=NOW)
    post(client, settings, "HELP")  # help replies reach even an opted-out number
    [reply] = twilio.sent_to(CALLER)
    assert "Sunrise Plumbing" in reply["body"] and "STOP" in reply["body"] and "(303) 555-0100" in reply["body"]
    assert consent.current_state(business, CALLER) == ConsentState.opted_out  # HELP changes nothing


def test_a_plain_words_revocation_opts_out(client, settings, business, twilio):
    consent.record_sms_consent(business, CALLER, call_id="call_1", disclosure="d", now=NOW)
    post(client, settings, "Please stop texting me.")
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    assert consent.history(business, CALLER)[-1].keyword == "PLAIN_WORDS"
    assert twilio.sent_to(CALLER)[0]["body"] == texts.opt_out_confirmation("Sunrise Plumbing")


def test_opt_out_type_is_honoured_and_twilio_has_already_replied(client, settings, business, twilio):
    consent.record_sms_consent(business, CALLER, call_id="call_1", disclosure="d", now=NOW)
    params, response = post(client, settings, "Arrêtez", OptOutType="STOP")
    assert response.status_code == 200
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    assert consent.history(business, CALLER)[-1].keyword == "OPT_OUT_TYPE:STOP"
    assert twilio.sent_to(CALLER) == []  # one reply, Twilio's
    assert business.get(f"messages/{params['MessageSid']}")["reply"]["state"] == "provider_replied"


def test_an_ordinary_text_is_stored_and_forwarded_to_the_business(client, settings, business, twilio):
    params, response = post(client, settings, "  Can you come Tuesday at 3?  ", NumMedia="2",
                            MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1",
                            MediaContentType0="image/jpeg",
                            MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME2",
                            MediaContentType1="image/png")
    assert response.status_code == 200 and response.data == EMPTY_TWIML
    stored = business.get(f"messages/{params['MessageSid']}")
    assert stored["body"] == "  Can you come Tuesday at 3?  "  # as sent
    assert stored["media_urls"] == [params["MediaUrl0"], params["MediaUrl1"]]
    assert stored["media"][0]["content_type"] == "image/jpeg" and stored["intent"] is None
    [task] = queued_notifications(settings)
    assert task["template"] == "new_text_message" and task["tenant_id"] == "t_sunrise"
    assert task["context"]["message_sid"] == params["MessageSid"] and task["context"]["media_count"] == 2
    assert twilio.messages == {}  # no auto-reply, no marketing


def test_a_duplicate_webhook_stores_one_message_and_replies_once(client, settings, business, twilio):
    params = inbound_params("STOP")
    for _ in range(3):
        assert signed_post(client, settings, "sms_inbound", params).status_code == 200
    assert len(consent.history(business, CALLER)) == 1
    assert len(twilio.sent_to(CALLER)) == 1
    texts_in = [d for d in business.query(business.collection("messages")) if d.data["direction"] == "inbound"]
    assert len(texts_in) == 1
    other = inbound_params("Running late", sid=message_sid())
    for _ in range(2):
        signed_post(client, settings, "sms_inbound", other)
    assert len(queued_notifications(settings)) == 1


def test_a_forged_signature_is_refused(client, settings, business, twilio):
    params = inbound_params("STOP")
    assert signed_post(client, settings, "sms_inbound", params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert signed_post(client, settings, "sms_inbound", params, signature="").status_code == 403
    tampered = dict(params)
    from twilio.request_validator import RequestValidator

    sig = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url("sms_inbound"), params)
    tampered["From"] = "+13035550199"
    assert signed_post(client, settings, "sms_inbound", tampered, signature=sig).status_code == 403
    assert consent.current_state(business, CALLER) == ConsentState.never_asked
    assert twilio.requests == []


@pytest.mark.parametrize("change", [
    {"MessageSid": ""}, {"MessageSid": "not-a-sid"}, {"From": ""}, {"To": ""}, {"NumMedia": "x"},
    {"NumMedia": "2"},  # but no MediaUrl0/1
    {"NumMedia": "99"},
])
def test_malformed_requests_are_400(client, settings, business, twilio, change):
    params = {**inbound_params("hello"), **change}
    response = signed_post(client, settings, "sms_inbound", params)
    assert response.status_code == 400 and "error" in response.get_json()


def test_a_text_to_a_number_of_no_business_is_acknowledged(client, settings, business, twilio):
    params, response = post(client, settings, "STOP", to="+13035550199")
    assert response.status_code == 200 and response.data == EMPTY_TWIML
    assert twilio.requests == [] and business.get(f"messages/{params['MessageSid']}") is None


def test_store_down_is_503_and_the_retry_records_the_consent(client, settings, business, twilio, ports, monkeypatch):
    store = ports.store()
    params = inbound_params("STOP")

    def down(*args, **kwargs):
        raise StoreUnavailable("sqlite is down")

    with monkeypatch.context() as patch:
        patch.setattr(store, "transaction", down)
        assert signed_post(client, settings, "sms_inbound", params).status_code == 503
    assert consent.history(business, CALLER) == [] and twilio.messages == {}
    assert signed_post(client, settings, "sms_inbound", params).status_code == 200
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    assert len(twilio.sent_to(CALLER)) == 1


def test_twilio_down_is_503_and_the_retry_sends_the_reply_once(client, settings, business, twilio):
    params = inbound_params("STOP")
    twilio.fail_next(status=500, code=20500, message="Internal Server Error")
    assert signed_post(client, settings, "sms_inbound", params).status_code == 503
    # the consent change is committed already; only the reply is owed
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    assert signed_post(client, settings, "sms_inbound", params).status_code == 200
    assert signed_post(client, settings, "sms_inbound", params).status_code == 200
    assert len(twilio.sent_to(CALLER)) == 1 and len(consent.history(business, CALLER)) == 1


def test_a_sender_that_is_not_a_phone_number_is_stored_but_never_consented(client, settings, business, twilio):
    params, response = post(client, settings, "STOP", sender="SUNRISE")
    assert response.status_code == 200
    assert business.get(f"messages/{params['MessageSid']}")["intent"] is None
    assert twilio.messages == {}


def test_only_post_is_accepted(client, business):
    assert client("sms_inbound").get("/").status_code == 405


def test_when_the_carrier_already_blocked_the_number_the_stop_is_recorded_once(client, settings, business, twilio):
    twilio.unsubscribe(CALLER)  # Twilio's own STOP handling got there first
    params, response = post(client, settings, "STOP")
    assert response.status_code == 200
    assert [e.method for e in consent.history(business, CALLER)] == ["keyword"]
    reply = business.get(f"messages/{params['MessageSid']}")["reply"]
    assert reply["state"] == "blocked" and reply["reason"] == "opted_out"
    assert consent.verify_chain(business, CALLER).ok


def test_a_stop_signed_under_a_webhook_rule_is_accepted(client, settings, business, twilio, ports, monkeypatch):
    """With a Twilio Webhook Rule (retries on 5xx, so a STOP survives a short outage) Twilio signs
    with the rule's SharedKey and says so in a header; the function checks it that way."""
    from pydantic import SecretStr
    from twilio.request_validator import RequestValidator

    monkeypatch.setattr(ports, "settings", ports.settings.model_copy(
        update={"twilio_webhook_shared_key": SecretStr("rule-shared-key")}))
    params = inbound_params("STOP")
    url = settings.function_url("sms_inbound")
    shared = RequestValidator("rule-shared-key").compute_signature(url, params, "HMAC_SHA256")
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}
    response = client("sms_inbound").post("/", data=params, headers={"X-Twilio-Signature": shared, **header})
    assert response.status_code == 200
    assert consent.current_state(business, CALLER) == ConsentState.opted_out
    # the Auth Token's signature under the rule's header is not the rule's signature
    start = inbound_params("START")
    auth = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(url, start)
    assert client("sms_inbound").post("/", data=start, headers={"X-Twilio-Signature": auth}).status_code == 200
    again = inbound_params("START")
    auth = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(url, again)
    assert client("sms_inbound").post("/", data=again,
                                      headers={"X-Twilio-Signature": auth, **header}).status_code == 403


def test_an_ordinary_text_reaches_the_crm_once(client, settings, ports, business, twilio):
    from shared.adapters.local.db import database
    from shared.crm import setup
    from shared.crm.fanout import CrmPushTask

    setup.add_endpoint(ports, "t_sunrise", url="http://127.0.0.1:9/hooks/crm", events=["message.received"])
    sid = message_sid()
    for _ in range(2):  # Twilio retried the webhook
        post(client, settings, "Can you come Tuesday at 3?", MessageSid=sid)
    rows = database(settings.z3_data_dir).read("SELECT body FROM tasks WHERE target = 'crm_push'", ())
    [task] = [CrmPushTask.from_bytes(bytes(body)) for (body,) in rows]
    event = json.loads(task.body)
    assert event["type"] == "message.received" and event["data"]["message_sid"] == sid
    assert (event["data"]["from"], event["data"]["body"]) == (CALLER, "Can you come Tuesday at 3?")
