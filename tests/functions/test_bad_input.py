"""Bad input, across every webhook: correctly signed but malformed requests get a 4xx (or an
acknowledging 2xx where the sender could never fix it), never a 500; unsigned ones get 403.

Requests are generated (hypothesis) and signed the way each provider signs, so what is tested is
the parsing and the rules behind a valid signature, for a real business with a real number."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.functions.local import worker_headers
from tests.functions.voice.support import CALLER, NUMBER, seed

TWILIO_FUNCTIONS = ("voice_answer", "voice_ivr", "voice_status", "sms_inbound", "sms_status")
RETELL_FUNCTIONS = ("retell_webhook", "retell_tools")
TASK_FUNCTIONS = ("notify", "recording_ingest", "retell_recording_copy", "call_finalize")

# Values a provider (or someone forging one) might put in a field: empty, huge, wrong type,
# control characters, other numbers, ids of the wrong shape.
VALUES = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "CA", "SM", "RE", NUMBER, CALLER, "+442071838750", "null", "[]", "{}",
                     "completed", "ringing", "in-progress", "delivered", "STOP", "HELP", "x" * 5000,
                     "CA" + "0" * 32, "SM" + "f" * 32, "RE" + "a" * 32, "\x00", "%ff", "../../etc"]),
    st.text(max_size=40),
)
FIELDS = st.sampled_from(["CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "Digits", "SpeechResult",
                          "RecordingSid", "RecordingUrl", "RecordingStatus", "RecordingDuration", "MessageSid",
                          "SmsSid", "Body", "NumMedia", "MediaUrl0", "MessageStatus", "ErrorCode", "OptOutType",
                          "CallDuration", "DialCallStatus", "Junk"])
FORMS = st.dictionaries(FIELDS, VALUES, max_size=10)

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
RETELL_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"event": st.sampled_from(["call_started", "call_ended", "call_analyzed",
                                                     "transfer_started", "nonsense"]),
                           "call": JSON_VALUES}),
    st.fixed_dictionaries({"name": st.sampled_from(["check_availability", "book_appointment", "take_message",
                                                    "transfer_call", "lookup_caller", "record_sms_consent",
                                                    "rm -rf"]),
                           "args": JSON_VALUES, "call": JSON_VALUES}),
)
SETTINGS = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def business(ports):
    return seed(ports)


def _no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"


@pytest.mark.parametrize("function", TWILIO_FUNCTIONS)
def test_twilio_webhooks_refuse_unsigned_requests(client, business, function):
    response = client(function).post("/", data={"CallSid": "CA" + "0" * 32, "To": NUMBER, "From": CALLER})
    assert response.status_code == 403


@pytest.mark.parametrize("function", TWILIO_FUNCTIONS)
@given(form=FORMS)
@SETTINGS
def test_twilio_webhooks_never_fail_on_signed_garbage(client, settings, business, function, form):
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url(function), form)
    response = client(function).post("/", data=urlencode(form), headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    _no_server_error(response, f"{function} {form!r}")


@pytest.mark.parametrize("function", RETELL_FUNCTIONS)
@given(body=RETELL_BODIES)
@SETTINGS
def test_retell_webhooks_never_fail_on_signed_garbage(client, settings, business, function, body):
    from retell.lib.webhook_auth import symmetric

    raw = json.dumps(body).encode()
    signature = symmetric["sign"](raw.decode(), settings.secret("retell_api_key"), None)
    response = client(function).post("/", data=raw, headers={"Content-Type": "application/json",
                                                              "x-retell-signature": signature})
    _no_server_error(response, f"{function} {body!r}")


@pytest.mark.parametrize("function", RETELL_FUNCTIONS + ("email_events",))
def test_json_webhooks_refuse_unsigned_requests(client, business, function):
    response = client(function).post("/", data=b'{"event": "call_started"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 403


@given(body=JSON_VALUES)
@SETTINGS
def test_email_events_never_fail_on_signed_garbage(client, settings, business, body):
    from tools.sandboxes.resend import sign_svix

    raw = json.dumps(body).encode()
    headers = sign_svix(settings.secret("resend_webhook_secret"), raw)
    _no_server_error(client("email_events").post("/", data=raw, headers=headers), f"email_events {body!r}")


@pytest.mark.parametrize("function", TASK_FUNCTIONS)
@given(body=st.one_of(JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64)))
@SETTINGS
def test_task_targets_never_fail_on_unreadable_tasks(client, business, function, body):
    """A task body that can never be processed is acknowledged or refused, not retried for ever
    with a 500 (Cloud Tasks retries any non-2xx; 4xx is logged as the sender's fault)."""
    response = client(function).post("/", data=body, headers=worker_headers(function, body))
    _no_server_error(response, f"{function} {body!r}")
