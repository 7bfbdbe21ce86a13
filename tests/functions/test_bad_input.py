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
from tests.functions.voice.support import CALLER, NUMBER, TENANT, seed

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
    # NaN and the infinities are written as the literals NaN/Infinity (Python's json reads them);
    # 1e400 parses to infinity; integers beyond 64 bits fit no store.
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 2, max_value=2**80),
              st.floats(), st.text(max_size=20)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


def deeply_nested(depth: int, leaf: object = 1) -> bytes:
    return b'{"a":' * depth + json.dumps(leaf).encode() + b"}" * depth


# Absurd but well-formed shapes of a Retell call: times in ms (2**64 overflowed the conversion),
# costs (1e400 is infinity), and book_appointment starts at the calendar's limits.
TIMESTAMPS = st.one_of(st.integers(), st.sampled_from([2**64, 2**63, -(2**63), 10**20, 253402300800000]))
CALLS = st.fixed_dictionaries(
    {"call_id": st.just("call_fuzz"), "metadata": st.just({"tenant_id": TENANT, "call_sid": "CA" + "f" * 32})},
    optional={"start_timestamp": TIMESTAMPS, "end_timestamp": TIMESTAMPS, "duration_ms": TIMESTAMPS,
              "call_cost": st.fixed_dictionaries({}, optional={"combined_cost": st.floats() | st.just(10**400),
                                                                "total_duration_seconds": st.floats()}),
              "call_analysis": st.fixed_dictionaries({}, optional={"custom_analysis_data": JSON_VALUES})})
STARTS = st.one_of(st.sampled_from(["9999-12-31T23:30", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00-12:00",
                                    "9999-12-31", "2026-03-05T14:00:00-07:00"]),
                   st.datetimes().map(lambda d: d.isoformat()))
RETELL_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"event": st.sampled_from(["call_started", "call_ended", "call_analyzed"]), "call": CALLS}),
    st.fixed_dictionaries({"name": st.sampled_from(["book_appointment", "check_availability"]), "call": CALLS,
                           "args": st.fixed_dictionaries({"start": STARTS, "name": st.just("Pat"),
                                                          "date": STARTS.map(lambda s: s[:10])})}),
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


# --- signed but absurd Retell bodies, one test per cause (each was a 500) -------------------------

def _post_retell_raw(client, settings, function: str, raw: bytes):
    from retell.lib.webhook_auth import symmetric

    signature = symmetric["sign"](raw.decode(), settings.secret("retell_api_key"), None)
    return client(function).post("/", data=raw, headers={"Content-Type": "application/json",
                                                         "x-retell-signature": signature})


def _call(**fields) -> dict:
    return {"call_id": "call_absurd", "metadata": {"tenant_id": TENANT, "call_sid": "CA" + "e" * 32}, **fields}


@pytest.mark.parametrize("function", RETELL_FUNCTIONS)
@pytest.mark.parametrize("depth", [65, 5000])
def test_json_nested_too_deeply_is_a_400(client, settings, business, function, depth):
    response = _post_retell_raw(client, settings, function, deeply_nested(depth))
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]


@pytest.mark.parametrize("cost", [b"1e400", b"-1e400", b"Infinity", b"NaN"])
def test_a_cost_that_is_not_a_finite_number_is_a_400(client, settings, ports, business, cost):
    raw = json.dumps({"event": "call_ended", "call": _call(call_cost={"combined_cost": 0})}).encode()
    response = _post_retell_raw(client, settings, "retell_webhook", raw.replace(b'"combined_cost": 0', b'"combined_cost": ' + cost))
    assert response.status_code == 400
    assert "finite" in response.get_json()["error"]


@pytest.mark.parametrize("field", ["start_timestamp", "end_timestamp", "duration_ms"])
@pytest.mark.parametrize("value", [2**64, 2**63 - 1, -1])
def test_a_time_no_clock_can_hold_is_a_400(client, settings, ports, business, field, value):
    response = _post_retell_raw(client, settings, "retell_webhook",
                                json.dumps({"event": "call_ended", "call": _call(**{field: value})}).encode())
    assert response.status_code == 400
    reply = response.get_json()  # beyond 64 bits the parser refuses it; within, the call model does
    assert field in json.dumps(reply.get("details")) or "out of range" in reply["error"]


def test_a_real_call_ended_time_is_still_taken(client, settings, ports, business):
    """In-range times and costs are not refused by the bounds above: the event is applied."""
    response = _post_retell_raw(client, settings, "retell_webhook", json.dumps(
        {"event": "call_ended", "call": _call(start_timestamp=1772470800000, duration_ms=125_000,
                                              call_cost={"combined_cost": 21.4})}).encode())
    assert response.status_code == 200, response.text
    assert response.get_json()["result"] == "applied"


# --- request size ------------------------------------------------------------------------------

@pytest.mark.parametrize("function", TWILIO_FUNCTIONS + RETELL_FUNCTIONS + ("email_events",) + TASK_FUNCTIONS)
def test_a_body_over_one_mib_is_a_413_before_it_is_parsed(client, business, function):
    from shared.http import MAX_BODY_BYTES

    response = client(function).post("/", data=b"x" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_chunked_body_without_content_length_is_cut_at_the_limit(business):
    """Straight through the WSGI app, as a server passes a chunked body: no Content-Length,
    ``wsgi.input_terminated``, and an input that never ends."""
    import io

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from shared.http import MAX_BODY_BYTES
    from tools.wsgi import function_app

    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = len(buffer)
            buffer[:n] = b"x" * n
            Endless.read_bytes += n
            return n

    environ = EnvironBuilder(method="POST", path="/", headers={"Content-Type": "application/json",
                                                               "Transfer-Encoding": "chunked"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(Endless()), "wsgi.input_terminated": True})
    _body, status, _headers = run_wsgi_app(function_app("retell_webhook"), environ, buffered=True)
    assert status.startswith("413")
    assert Endless.read_bytes < 2 * MAX_BODY_BYTES


def test_a_body_at_the_limit_is_read(client, settings, business):
    from shared.http import MAX_BODY_BYTES

    raw = json.dumps({"event": "call_started", "call": {"call_id": "c1", "pad": "x" * (MAX_BODY_BYTES - 100)}}).encode()
    assert len(raw) <= MAX_BODY_BYTES
    assert _post_retell_raw(client, settings, "retell_webhook", raw).status_code == 200
