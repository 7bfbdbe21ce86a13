"""Webhook signatures: signed with each provider's own SDK helpers (or the published vectors),
verified by ``shared.webhooks``; everything forged, stale, missing or malformed is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from shared.config import Settings
from shared.webhooks import InvalidSignature, MalformedPayload
from shared.webhooks.intuit import verify_intuit
from shared.webhooks.resend import verify_resend
from shared.webhooks.retell import verify_retell
from shared.webhooks.stripe import verify_stripe
from shared.webhooks.twilio import verify_twilio

FORM = "application/x-www-form-urlencoded"
MARKER = "PII-MARKER-+13035550100"  # put in bodies: it must never show up in a reason


def make_settings(**values) -> Settings:
    return Settings(Z3_BACKEND="local", **values)


def refused(exc_info, *, provider: str, reason: str | None = None) -> None:
    exc = exc_info.value
    assert type(exc) is InvalidSignature
    assert exc.provider == provider
    if reason is not None:
        assert exc.reason == reason
    assert MARKER not in str(exc)
    assert exc.__cause__ is None  # SDK exceptions (Stripe's carries the body) are not chained


# --- Twilio ---------------------------------------------------------------------------------

TWILIO_VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_VECTOR_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def twilio_settings(token: str = "12345", base: str = "https://mycompany.com") -> Settings:
    return make_settings(TWILIO_AUTH_TOKEN=token, PUBLIC_BASE_URL=base)


def twilio_sign(token: str, url: str, params) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(token).compute_signature(url, params)


def twilio_verify(settings: Settings, *, body: bytes, signature, query: str = "foo=1&bar=2",
                  function_name: str = "myapp.php", content_type: str = FORM) -> None:
    verify_twilio(settings, function_name=function_name, query_string=query, raw_body=body,
                  content_type=content_type, signature=signature)


def test_twilio_sdk_reproduces_the_published_vector():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_sign("12345", url, TWILIO_VECTOR_PARAMS) == TWILIO_VECTOR_SIGNATURE
    # ... and so does the documented algorithm written out by hand.
    s = url + "".join(k + v for k, v in sorted(TWILIO_VECTOR_PARAMS.items()))
    assert base64.b64encode(hmac.new(b"12345", s.encode(), hashlib.sha1).digest()).decode() == TWILIO_VECTOR_SIGNATURE


def test_twilio_published_vector_verifies_as_a_form_post():
    # Out of order on purpose: the signature sorts the names.
    body = urlencode(list(reversed(TWILIO_VECTOR_PARAMS.items()))).encode()
    twilio_verify(twilio_settings(), body=body, signature=TWILIO_VECTOR_SIGNATURE)
    twilio_verify(twilio_settings(), body=body, signature=TWILIO_VECTOR_SIGNATURE,
                  content_type="application/x-www-form-urlencoded; charset=utf-8")


@pytest.mark.parametrize("change", [
    {"body": urlencode({**TWILIO_VECTOR_PARAMS, "Digits": "9999"}).encode()},  # tampered param
    {"body": urlencode({**TWILIO_VECTOR_PARAMS, "Extra": "1"}).encode()},  # added param
    {"query": "foo=1&bar=3"},  # tampered query
    {"query": ""},  # query dropped
    {"function_name": "other.php"},  # another function's URL
])
def test_twilio_refuses_anything_changed_from_what_was_signed(change):
    args = {"body": urlencode(TWILIO_VECTOR_PARAMS).encode(), **change}
    with pytest.raises(InvalidSignature) as exc:
        twilio_verify(twilio_settings(), signature=TWILIO_VECTOR_SIGNATURE, **args)
    refused(exc, provider="twilio", reason="signature mismatch")


def test_twilio_url_comes_from_public_base_url_not_the_request():
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    # Signed for the host the request claims to come in on: refused.
    forged_host = twilio_sign("12345", "https://evil.example/myapp.php?foo=1&bar=2", TWILIO_VECTOR_PARAMS)
    with pytest.raises(InvalidSignature):
        twilio_verify(twilio_settings(), body=body, signature=forged_host)
    # The Cloud Functions URL Google rewrote the request to: refused too.
    internal = twilio_sign("12345", "http://myapp-abc.a.run.app/myapp.php?foo=1&bar=2", TWILIO_VECTOR_PARAMS)
    with pytest.raises(InvalidSignature):
        twilio_verify(twilio_settings(), body=body, signature=internal)
    # The same signature is valid exactly when PUBLIC_BASE_URL is the signed one.
    with pytest.raises(InvalidSignature):
        twilio_verify(twilio_settings(base="https://other.example"), body=body, signature=TWILIO_VECTOR_SIGNATURE)
    twilio_verify(twilio_settings(base="https://mycompany.com/"), body=body, signature=TWILIO_VECTOR_SIGNATURE)


def test_twilio_accepts_the_url_with_the_default_port_as_the_sdk_does():
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    with_port = twilio_sign("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", TWILIO_VECTOR_PARAMS)
    twilio_verify(twilio_settings(), body=body, signature=with_port)


def test_twilio_query_string_may_arrive_as_bytes():
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    twilio_verify(twilio_settings(), body=body, signature=TWILIO_VECTOR_SIGNATURE, query=b"foo=1&bar=2")


def test_twilio_keeps_blank_and_repeated_parameters():
    from werkzeug.datastructures import MultiDict  # what a Flask app would hand the SDK

    pairs = [("CallSid", "CA1"), ("ForwardedFrom", ""), ("MediaUrl0", "https://x/1"),
             ("Tag", "b"), ("Tag", "a"), ("Body", "Café & co = 100%")]
    url = "https://mycompany.com/sms_inbound"
    signature = twilio_sign("12345", url, MultiDict(pairs))
    twilio_verify(twilio_settings(), body=urlencode(pairs).encode(), signature=signature,
                  query="", function_name="sms_inbound")
    # Dropping the blank parameter or one of the repeated values breaks it.
    for broken in (pairs[:1] + pairs[2:], pairs[:4] + pairs[5:]):
        with pytest.raises(InvalidSignature):
            twilio_verify(twilio_settings(), body=urlencode(broken).encode(), signature=signature,
                          query="", function_name="sms_inbound")


def test_twilio_json_body_is_checked_through_body_sha256():
    body = json.dumps({"event": "x", "note": MARKER}).encode()
    query = "bodySHA256=" + hashlib.sha256(body).hexdigest()
    url = f"https://mycompany.com/voice_status?{query}"
    signature = twilio_sign("12345", url, {})
    twilio_verify(twilio_settings(), body=body, signature=signature, query=query,
                  function_name="voice_status", content_type="application/json")
    # Tampered body: the URL signature still holds, the hash in it does not.
    with pytest.raises(InvalidSignature) as exc:
        twilio_verify(twilio_settings(), body=body.replace(b"x", b"y"), signature=signature, query=query,
                      function_name="voice_status", content_type="application/json")
    refused(exc, provider="twilio", reason="body hash or signature mismatch")
    # Swapping in the hash of the tampered body breaks the URL signature instead.
    other = body.replace(b"x", b"y")
    with pytest.raises(InvalidSignature):
        twilio_verify(twilio_settings(), body=other, signature=signature,
                      query="bodySHA256=" + hashlib.sha256(other).hexdigest(),
                      function_name="voice_status", content_type="application/json")


def test_twilio_refuses_a_json_body_without_body_sha256():
    body = json.dumps({"event": "x"}).encode()
    signature = twilio_sign("12345", "https://mycompany.com/voice_status", {})
    with pytest.raises(InvalidSignature) as exc:
        twilio_verify(twilio_settings(), body=body, signature=signature, query="",
                      function_name="voice_status", content_type="application/json")
    refused(exc, provider="twilio", reason="body not covered by the signature")


def test_twilio_empty_body_signs_the_url_only():
    signature = twilio_sign("12345", "https://mycompany.com/voice_answer?x=1", {})
    twilio_verify(twilio_settings(), body=b"", signature=signature, query="x=1",
                  function_name="voice_answer", content_type="")


@pytest.mark.parametrize("signature,reason", [
    (None, "missing X-Twilio-Signature header"),
    ("", "missing X-Twilio-Signature header"),
    ("   ", "missing X-Twilio-Signature header"),
    ("0/KCTR6DLpKmkAf8muzZqo1nDgQ", "signature mismatch"),  # one character short
    ("1/KCTR6DLpKmkAf8muzZqo1nDgQ=", "signature mismatch"),  # forged
    ("not base64 at all é", "signature mismatch"),  # malformed
])
def test_twilio_refuses_missing_forged_and_malformed_signatures(signature, reason):
    with pytest.raises(InvalidSignature) as exc:
        twilio_verify(twilio_settings(), body=urlencode(TWILIO_VECTOR_PARAMS).encode(), signature=signature)
    refused(exc, provider="twilio", reason=reason)


def test_twilio_refuses_the_wrong_token_and_a_missing_token():
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    with pytest.raises(InvalidSignature):
        twilio_verify(twilio_settings(token="54321"), body=body, signature=TWILIO_VECTOR_SIGNATURE)
    for token in ("", "  "):
        with pytest.raises(InvalidSignature) as exc:
            twilio_verify(twilio_settings(token=token), body=body, signature=TWILIO_VECTOR_SIGNATURE)
        refused(exc, provider="twilio", reason="secret not configured")


SHARED_KEY = "webhooks-shared-key-secret"
SETTINGS_HEADER = "key=webhooks_sharedkey_0123456789abcdef,algorithm=HMAC_SHA256"


def test_twilio_webhook_rule_signatures_use_the_shared_key_and_its_algorithm():
    """A Webhook Rule's Setting (e.g. retries on 5xx) makes Twilio sign with the Setting's
    SharedKey and the header's algorithm instead of the Auth Token and HMAC-SHA1."""
    from twilio.request_validator import RequestValidator

    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    body = urlencode(TWILIO_VECTOR_PARAMS).encode()
    shared = RequestValidator(SHARED_KEY).compute_signature(url, TWILIO_VECTOR_PARAMS, "HMAC_SHA256")
    settings = make_settings(TWILIO_AUTH_TOKEN="12345", PUBLIC_BASE_URL="https://mycompany.com",
                             TWILIO_WEBHOOK_SHARED_KEY=SHARED_KEY)
    verify_twilio(settings, function_name="myapp.php", query_string="foo=1&bar=2", raw_body=body, content_type=FORM,
                  signature=shared, signature_settings=SETTINGS_HEADER)
    # The Auth Token's signature does not stand in for the shared key's, nor the other way round.
    for signature, header in ((TWILIO_VECTOR_SIGNATURE, SETTINGS_HEADER), (shared, None)):
        with pytest.raises(InvalidSignature):
            verify_twilio(settings, function_name="myapp.php", query_string="foo=1&bar=2", raw_body=body,
                          content_type=FORM, signature=signature, signature_settings=header)
    # An algorithm the SDK does not know, and a shared-key request with no key configured: refused.
    with pytest.raises(InvalidSignature):
        verify_twilio(settings, function_name="myapp.php", query_string="foo=1&bar=2", raw_body=body,
                      content_type=FORM, signature=shared, signature_settings="key=x,algorithm=HMAC_SHA512")
    with pytest.raises(InvalidSignature) as exc:
        verify_twilio(twilio_settings(), function_name="myapp.php", query_string="foo=1&bar=2", raw_body=body,
                      content_type=FORM, signature=shared, signature_settings=SETTINGS_HEADER)
    refused(exc, provider="twilio", reason="signed with a shared key, but none is configured")


def test_twilio_refuses_a_body_that_is_not_utf8():
    signature = twilio_sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", {})
    with pytest.raises(InvalidSignature) as exc:
        twilio_verify(twilio_settings(), body=b"Body=\xff\xfe", signature=signature)
    refused(exc, provider="twilio", reason="body is not UTF-8 text")


# --- Retell ---------------------------------------------------------------------------------

RETELL_KEY = "key_retell_test_0123456789"


def retell_settings(key: str = RETELL_KEY) -> Settings:
    return make_settings(RETELL_API_KEY=key)


def retell_sign(body: bytes, key: str = RETELL_KEY, timestamp_ms: int | None = None) -> str:
    """Retell's own ``sign`` (the SDK's ``symmetric["sign"]``)."""
    from shared.webhooks.retell import _sdk_helper

    return _sdk_helper().symmetric["sign"](body.decode(), key, timestamp_ms)


def retell_body() -> bytes:
    return json.dumps({"event": "call_ended", "call": {"call_id": "c1", "transcript": MARKER}}).encode()


def test_retell_sdk_signature_matches_the_documented_format():
    body, ts = retell_body(), int(time.time() * 1000)
    digest = hmac.new(RETELL_KEY.encode(), body + str(ts).encode(), hashlib.sha256).hexdigest()
    assert retell_sign(body, timestamp_ms=ts) == f"v={ts},d={digest}"
    verify_retell(retell_settings(), raw_body=body, signature=f"v={ts},d={digest}")


def test_retell_accepts_within_five_minutes_either_way():
    body, now = retell_body(), int(time.time() * 1000)
    for offset_s in (-290, -60, 0, 60, 290):
        verify_retell(retell_settings(), raw_body=body, signature=retell_sign(body, timestamp_ms=now + offset_s * 1000))


@pytest.mark.parametrize("offset_s", [-301, -3600, 301, 86400])
def test_retell_refuses_stale_and_future_timestamps(offset_s):
    body = retell_body()
    signature = retell_sign(body, timestamp_ms=int(time.time() * 1000) + offset_s * 1000)
    with pytest.raises(InvalidSignature) as exc:
        verify_retell(retell_settings(), raw_body=body, signature=signature)
    refused(exc, provider="retell", reason="timestamp outside the 5-minute tolerance")


def test_retell_refuses_tampered_body_wrong_key_and_forgery():
    body = retell_body()
    signature = retell_sign(body)
    for raw, settings in ((body + b" ", retell_settings()), (body, retell_settings("key_other"))):
        with pytest.raises(InvalidSignature) as exc:
            verify_retell(settings, raw_body=raw, signature=signature)
        refused(exc, provider="retell", reason="signature mismatch")
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    with pytest.raises(InvalidSignature):
        verify_retell(retell_settings(), raw_body=body, signature=forged)


@pytest.mark.parametrize("signature,reason", [
    (None, "missing x-retell-signature header"),
    ("", "missing x-retell-signature header"),
    ("garbage", "malformed signature header"),
    ("v=123", "malformed signature header"),
    ("v=abc,d=" + "0" * 64, "malformed signature header"),
    ("v=1700000000000,d=" + "A" * 64, "malformed signature header"),  # the SDK wants lowercase hex
    ("v=1700000000000,d=" + "0" * 63, "malformed signature header"),
    (" v=1700000000000,d=" + "0" * 64, "malformed signature header"),
])
def test_retell_refuses_missing_and_malformed_headers(signature, reason):
    with pytest.raises(InvalidSignature) as exc:
        verify_retell(retell_settings(), raw_body=retell_body(), signature=signature)
    refused(exc, provider="retell", reason=reason)


def test_retell_refuses_when_the_api_key_is_missing():
    body = retell_body()
    with pytest.raises(InvalidSignature) as exc:
        verify_retell(retell_settings(""), raw_body=body, signature=retell_sign(body, key=""))
    refused(exc, provider="retell", reason="secret not configured")


def test_retell_refuses_a_body_that_is_not_utf8():
    with pytest.raises(InvalidSignature) as exc:
        verify_retell(retell_settings(), raw_body=b"\xff" + retell_body(), signature=retell_sign(retell_body()))
    refused(exc, provider="retell", reason="body is not UTF-8 text")


def test_retell_check_does_not_import_the_retell_client():
    code = (
        "import sys, time\n"
        "from shared.config import Settings\n"
        "from shared.webhooks import InvalidSignature\n"
        "from shared.webhooks.retell import verify_retell\n"
        "try:\n"
        "    verify_retell(Settings(Z3_BACKEND='local'), raw_body=b'{}', signature='v=1,d=' + '0' * 64)\n"
        "except InvalidSignature:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'retell' or m.startswith('retell.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# --- Stripe ---------------------------------------------------------------------------------

STRIPE_SECRET = "whsec_test_secret_0123456789"


def stripe_settings(secret: str = STRIPE_SECRET) -> Settings:
    return make_settings(STRIPE_WEBHOOK_SECRET=secret)


def stripe_event_body(**extra) -> bytes:
    event = {"id": "evt_123", "object": "event", "type": "invoice.paid", "created": 1700000000,
             "data": {"object": {"id": "in_1", "object": "invoice", "customer_email": MARKER,
                                 "lines": {"data": [{"id": "il_1", "amount": 5000}]}}}, **extra}
    return json.dumps(event).encode()


def stripe_sign(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    import stripe

    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp)


def _only_plain(value) -> bool:
    if type(value) is dict:
        return all(_only_plain(v) for v in value.values())
    if type(value) is list:
        return all(_only_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_stripe_returns_the_verified_event_as_a_plain_dict():
    body = stripe_event_body()
    event = verify_stripe(stripe_settings(), raw_body=body, signature=stripe_sign(body))
    assert event == json.loads(body)
    assert _only_plain(event)


def test_stripe_accepts_any_matching_v1_among_several():
    body = stripe_event_body()
    header = stripe_sign(body)
    t, v1 = header.split(",")
    verify_stripe(stripe_settings(), raw_body=body, signature=f"{t},v1={'0' * 64},{v1},v0=abc")


def test_stripe_refuses_a_stale_timestamp():
    body = stripe_event_body()
    verify_stripe(stripe_settings(), raw_body=body, signature=stripe_sign(body, timestamp=int(time.time()) - 290))
    with pytest.raises(InvalidSignature) as exc:
        verify_stripe(stripe_settings(), raw_body=body, signature=stripe_sign(body, timestamp=int(time.time()) - 301))
    refused(exc, provider="stripe", reason="timestamp outside the 5-minute tolerance")


def test_stripe_refuses_tampered_body_wrong_secret_and_forgery():
    body = stripe_event_body()
    header = stripe_sign(body)
    cases = [
        (body.replace(b"5000", b"50"), header, stripe_settings()),
        (body, header, stripe_settings("whsec_other")),
        (body, header[:-1] + ("0" if header[-1] != "0" else "1"), stripe_settings()),
    ]
    for raw, sig, settings in cases:
        with pytest.raises(InvalidSignature) as exc:
            verify_stripe(settings, raw_body=raw, signature=sig)
        refused(exc, provider="stripe", reason="signature mismatch")


@pytest.mark.parametrize("signature,reason", [
    (None, "missing Stripe-Signature header"),
    ("", "missing Stripe-Signature header"),
    ("garbage", "malformed signature header"),
    ("t=abc,v1=" + "0" * 64, "malformed signature header"),
    ("t=1700000000", "malformed signature header"),
    ("v1=" + "0" * 64, "malformed signature header"),
    ("t=1700000000,v1=é", None),  # the SDK's compare_digest raises TypeError here: still a refusal
])
def test_stripe_refuses_missing_and_malformed_headers(signature, reason):
    with pytest.raises(InvalidSignature) as exc:
        verify_stripe(stripe_settings(), raw_body=stripe_event_body(), signature=signature)
    refused(exc, provider="stripe", reason=reason)


def test_stripe_refuses_when_the_secret_is_missing():
    body = stripe_event_body()
    with pytest.raises(InvalidSignature) as exc:
        verify_stripe(stripe_settings(""), raw_body=body, signature=stripe_sign(body, secret="x"))
    refused(exc, provider="stripe", reason="secret not configured")


def test_stripe_refuses_a_body_that_is_not_utf8_as_unsigned_not_malformed():
    body = b"\xff" + stripe_event_body()
    with pytest.raises(InvalidSignature):
        verify_stripe(stripe_settings(), raw_body=body, signature="t=1,v1=" + "0" * 64)


@pytest.mark.parametrize("body", [
    b"not json " + MARKER.encode(),
    b"[1, 2, 3]",
    json.dumps({"id": "evt_1", "object": "v2.core.event", "type": "x"}).encode(),  # a thin event
])
def test_stripe_signed_but_malformed_body_is_a_400_not_a_403(body):
    with pytest.raises(MalformedPayload) as exc:
        verify_stripe(stripe_settings(), raw_body=body, signature=stripe_sign(body))
    assert isinstance(exc.value, ValueError) and not isinstance(exc.value, InvalidSignature)
    assert MARKER not in str(exc.value) and exc.value.__cause__ is None


# --- Intuit ---------------------------------------------------------------------------------

INTUIT_TOKEN = "intuit-verifier-token-0123"


def intuit_settings(token: str = INTUIT_TOKEN) -> Settings:
    return make_settings(INTUIT_VERIFIER_TOKEN=token)


def intuit_sign(body: bytes, token: str = INTUIT_TOKEN) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def intuit_body() -> bytes:
    return json.dumps({"eventNotifications": [{"realmId": "123", "dataChangeEvent": {
        "entities": [{"name": "Customer", "id": "1", "operation": "Update", "note": MARKER}]}}]}).encode()


def test_intuit_accepts_the_signed_body():
    body = intuit_body()
    verify_intuit(intuit_settings(), raw_body=body, signature=intuit_sign(body))


def test_intuit_refuses_tampered_body_wrong_token_and_forgery():
    body = intuit_body()
    signature = intuit_sign(body)
    for raw, settings, sig in ((body + b"\n", intuit_settings(), signature),
                               (body, intuit_settings("other-token"), signature),
                               (body, intuit_settings(), intuit_sign(body, "other-token"))):
        with pytest.raises(InvalidSignature) as exc:
            verify_intuit(settings, raw_body=raw, signature=sig)
        refused(exc, provider="intuit", reason="signature mismatch")


@pytest.mark.parametrize("signature,reason", [
    (None, "missing intuit-signature header"),
    ("", "missing intuit-signature header"),
    ("not-base64!", "signature mismatch"),
    ("é" * 44, "malformed signature header"),
])
def test_intuit_refuses_missing_and_malformed_headers(signature, reason):
    with pytest.raises(InvalidSignature) as exc:
        verify_intuit(intuit_settings(), raw_body=intuit_body(), signature=signature)
    refused(exc, provider="intuit", reason=reason)


def test_intuit_refuses_when_the_verifier_token_is_missing():
    body = intuit_body()
    with pytest.raises(InvalidSignature) as exc:
        verify_intuit(intuit_settings(""), raw_body=body, signature=intuit_sign(body, ""))
    refused(exc, provider="intuit", reason="secret not configured")


# --- Resend (Svix) --------------------------------------------------------------------------

# The published Svix / Standard Webhooks test vector.
SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SVIX_VECTOR = {"svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "svix-timestamp": "1614265330",
               "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
SVIX_VECTOR_BODY = b'{"test": 2432232314}'


def resend_settings(secret: str = SVIX_SECRET) -> Settings:
    return make_settings(RESEND_WEBHOOK_SECRET=secret)


def svix_sign(body: bytes, *, secret: str = SVIX_SECRET, msg_id: str = "msg_1", timestamp: int | None = None) -> dict:
    """Svix's signing scheme, as its libraries implement it (the vector below pins it)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {"svix-id": msg_id, "svix-timestamp": ts, "svix-signature": "v1," + base64.b64encode(digest).decode()}


def resend_body() -> bytes:
    return json.dumps({"type": "email.bounced", "data": {"email_id": "e1", "to": [MARKER]}}).encode()


def test_svix_signing_reproduces_the_published_vector():
    assert svix_sign(SVIX_VECTOR_BODY, msg_id=SVIX_VECTOR["svix-id"], timestamp=1614265330) == SVIX_VECTOR


def test_resend_published_vector_verifies_at_its_own_time(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1614265330.0 + 120)
    verify_resend(resend_settings(), raw_body=SVIX_VECTOR_BODY, headers=SVIX_VECTOR)
    # Several signatures (key rotation): any one matching is enough.
    rotated = {**SVIX_VECTOR, "svix-signature": "v1,bm9wZQ== " + SVIX_VECTOR["svix-signature"]}
    verify_resend(resend_settings(), raw_body=SVIX_VECTOR_BODY, headers=rotated)


def test_resend_published_vector_is_stale_today():
    with pytest.raises(InvalidSignature) as exc:
        verify_resend(resend_settings(), raw_body=SVIX_VECTOR_BODY, headers=SVIX_VECTOR)
    refused(exc, provider="resend", reason="timestamp outside the 5-minute tolerance")


def test_resend_accepts_a_fresh_signature_with_headers_in_any_case():
    body = resend_body()
    headers = svix_sign(body)
    verify_resend(resend_settings(), raw_body=body, headers=headers)
    verify_resend(resend_settings(), raw_body=body, headers={k.title(): v for k, v in headers.items()})


@pytest.mark.parametrize("offset_s", [-301, 301])
def test_resend_refuses_stale_and_future_timestamps(offset_s):
    body = resend_body()
    headers = svix_sign(body, timestamp=int(time.time()) + offset_s)
    with pytest.raises(InvalidSignature) as exc:
        verify_resend(resend_settings(), raw_body=body, headers=headers)
    refused(exc, provider="resend", reason="timestamp outside the 5-minute tolerance")


def test_resend_refuses_tampered_body_wrong_secret_forgery_and_a_swapped_id():
    body = resend_body()
    headers = svix_sign(body)
    other_secret = "whsec_" + base64.b64encode(b"another-secret-of-24-byte").decode()
    cases = [
        (body + b" ", headers, resend_settings()),
        (body, headers, resend_settings(other_secret)),
        (body, {**headers, "svix-signature": "v1," + base64.b64encode(b"\0" * 32).decode()}, resend_settings()),
        (body, {**headers, "svix-id": "msg_2"}, resend_settings()),
    ]
    for raw, hdrs, settings in cases:
        with pytest.raises(InvalidSignature) as exc:
            verify_resend(settings, raw_body=raw, headers=hdrs)
        refused(exc, provider="resend", reason="signature mismatch")


@pytest.mark.parametrize("drop", ["svix-id", "svix-timestamp", "svix-signature"])
def test_resend_refuses_a_missing_header(drop):
    body = resend_body()
    headers = {k: v for k, v in svix_sign(body).items() if k != drop}
    with pytest.raises(InvalidSignature) as exc:
        verify_resend(resend_settings(), raw_body=body, headers=headers)
    refused(exc, provider="resend", reason=f"missing {drop} header")
    with pytest.raises(InvalidSignature):
        verify_resend(resend_settings(), raw_body=body, headers={**headers, drop: ""})


@pytest.mark.parametrize("change,reason", [
    ({"svix-timestamp": "soon"}, "malformed svix-timestamp header"),
    ({"svix-signature": "garbage"}, "signature mismatch"),
    ({"svix-signature": "v1,é"}, "signature mismatch"),
])
def test_resend_refuses_malformed_headers(change, reason):
    body = resend_body()
    with pytest.raises(InvalidSignature) as exc:
        verify_resend(resend_settings(), raw_body=body, headers={**svix_sign(body), **change})
    refused(exc, provider="resend", reason=reason)


def test_resend_refuses_when_the_secret_is_missing():
    body = resend_body()
    with pytest.raises(InvalidSignature) as exc:
        verify_resend(resend_settings(""), raw_body=body, headers=svix_sign(body))
    refused(exc, provider="resend", reason="secret not configured")


def test_resend_signed_but_not_json_is_a_400():
    body = b"not json " + MARKER.encode()
    with pytest.raises(MalformedPayload) as exc:
        verify_resend(resend_settings(), raw_body=body, headers=svix_sign(body))
    assert MARKER not in str(exc.value) and exc.value.__cause__ is None


# --- all of them ----------------------------------------------------------------------------

def _all_verifiers(body: bytes, header: str):
    twilio_s = twilio_settings()
    return [
        lambda: verify_twilio(twilio_s, function_name="f", query_string="", raw_body=body,
                              content_type=FORM, signature=header),
        lambda: verify_twilio(twilio_s, function_name="f", query_string="bodySHA256=" + header[:64],
                              raw_body=body, content_type="application/json", signature=header),
        lambda: verify_retell(retell_settings(), raw_body=body, signature=header),
        lambda: verify_stripe(stripe_settings(), raw_body=body, signature=header),
        lambda: verify_intuit(intuit_settings(), raw_body=body, signature=header),
        lambda: verify_resend(resend_settings(), raw_body=body,
                              headers={"svix-id": header, "svix-timestamp": header, "svix-signature": header}),
    ]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=200), header=st.text(max_size=120))
def test_arbitrary_input_is_only_ever_refused(body, header):
    for verify in _all_verifiers(body, header):
        with pytest.raises(InvalidSignature):
            verify()


@pytest.mark.parametrize("header", ["t=1,v1=" + "0" * 64, "v=1,d=" + "0" * 64, "v1,AAAA", "\x00", "é" * 70])
def test_hostile_headers_are_only_ever_refused(header):
    for verify in _all_verifiers(b"{}", header):
        with pytest.raises(InvalidSignature):
            verify()


def test_importing_the_verifiers_imports_no_provider_sdk():
    code = ("import sys\nimport shared.webhooks, shared.webhooks.twilio, shared.webhooks.retell, "
            "shared.webhooks.stripe, shared.webhooks.intuit, shared.webhooks.resend\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('twilio', 'retell', 'stripe', 'resend', 'svix', 'cryptography')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
