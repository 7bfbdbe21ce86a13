from __future__ import annotations

import io
import json
import logging

import pytest

from shared.config import ConfigurationError, Settings
from shared.logging import JsonFormatter, redact, set_trace_from_headers


def _emit(msg, *args, **extra):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("voice_answer", "z3-prod"))
    logger = logging.getLogger("z3.test.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.warning(msg, *args, extra=extra)
    return json.loads(stream.getvalue())


def test_log_lines_are_json_for_cloud_logging():
    set_trace_from_headers({"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"})
    entry = _emit("call routed", route="voicemail")
    assert entry["severity"] == "WARNING"
    assert entry["function"] == "voice_answer"
    assert entry["route"] == "voicemail"
    assert entry["logging.googleapis.com/trace"] == "projects/z3-prod/traces/105445aa7843bc8bf206b12000100000"
    set_trace_from_headers({})


@pytest.mark.parametrize("text", [
    "caller +13035550100 said hi", "call from (303) 555-0100", "303-555-0100 called", "3035550100",
    "mail ann.owner+z3@acme.example now", "card 4242 4242 4242 4242 declined", "card 4242424242424242",
])
def test_pii_is_redacted_from_messages(text):
    out = redact(text)
    for secret in ("3035550100", "555-0100", "555-0100", "ann.owner", "4242 4242", "4242424242424242"):
        assert secret not in out


def test_pii_is_redacted_from_args_and_fields():
    entry = _emit("sms from %s: %s", "+13035550100", "my email is a@b.example",
                  body="call me at 720 555 0199", to="+17205550199", sid="SM123", count=3)
    text = json.dumps(entry)
    assert "3035550100" not in text and "a@b.example" not in text and "7205550199" not in text
    assert "555 0199" not in text
    assert entry["body"] == "[redacted]" and entry["to"] == "[redacted]"
    assert entry["sid"] == "SM123" and entry["count"] == 3


def test_local_mode_runs_on_development_secrets(tmp_path):
    s = Settings(Z3_DATA_DIR=tmp_path)
    assert s.backend == "local"
    assert s.function_url("voice_answer") == "http://127.0.0.1:8080/voice_answer"


@pytest.fixture
def production_env(monkeypatch):
    """No emulator in sight (the contract suite's session may have set them in the environment)."""
    for name in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "Z3_BACKEND"):
        monkeypatch.delenv(name, raising=False)


def test_gcp_mode_refuses_placeholder_and_missing_secrets(production_env):
    with pytest.raises(ConfigurationError) as err:
        Settings(GOOGLE_CLOUD_PROJECT="z3-prod", PUBLIC_BASE_URL="https://api.z3os.example")
    assert "TWILIO_AUTH_TOKEN is a placeholder" in str(err.value)
    with pytest.raises(ConfigurationError) as err:
        Settings(GOOGLE_CLOUD_PROJECT="z3-prod", PUBLIC_BASE_URL="https://api.z3os.example", TWILIO_AUTH_TOKEN="")
    assert "TWILIO_AUTH_TOKEN is missing" in str(err.value)


def test_gcp_mode_starts_with_real_looking_secrets(production_env):
    secrets = {name: f"sk_real_{i}_value_of_32_characters!" for i, name in enumerate([
        "TWILIO_AUTH_TOKEN", "RETELL_API_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "INTUIT_CLIENT_SECRET",
        "INTUIT_VERIFIER_TOKEN", "GOOGLE_CLIENT_SECRET", "RESEND_API_KEY", "RESEND_WEBHOOK_SECRET", "Z3_SESSION_SECRET", "Z3_API_TOKEN_PEPPER",
        "Z3_MEDIA_SIGNING_KEY"])}
    s = Settings(GOOGLE_CLOUD_PROJECT="z3-prod", PUBLIC_BASE_URL="https://api.z3os.example", **secrets)
    assert s.backend == "gcp"
    assert "sk_real" not in repr(s)  # secrets never print
    with pytest.raises(ConfigurationError):
        Settings(GOOGLE_CLOUD_PROJECT="z3-prod", PUBLIC_BASE_URL="http://insecure.example", **secrets)


def test_settings_come_from_the_environment_and_arguments_win(production_env, monkeypatch, tmp_path):
    monkeypatch.setenv("Z3_BACKEND", "local")
    monkeypatch.setenv("public_base_url", "https://from-env.example")  # names are case-insensitive
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token-from-env")
    monkeypatch.setenv("Z3_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("SOMETHING_ELSE", "ignored")
    s = Settings(Z3_DATA_DIR=tmp_path, Z3_LOG_LEVEL="WARNING")
    assert s.public_base_url == "https://from-env.example"
    assert s.secret("twilio_auth_token") == "token-from-env"
    assert s.z3_log_level == "WARNING"  # the argument, not the environment
    assert s.z3_data_dir == tmp_path
    assert Settings(z3_log_level="ERROR").z3_log_level == "ERROR"  # by field name too
    monkeypatch.setenv("Z3_BACKEND", "azure")
    with pytest.raises(ValueError):
        Settings()


@pytest.fixture
def function_log():
    """The handler the functions install (shared.logging.configure), writing to a buffer."""
    from shared.logging import configure, get_logger

    stream = io.StringIO()
    configure("sms_inbound", level="INFO", stream=stream)
    yield get_logger("z3.test.function"), stream
    configure()


@pytest.mark.parametrize("text,secret", [
    ("caller 13035550123 texted", "3035550123"),            # national format with the 1, no +
    ("caller 1-303-555-0123 texted", "555-0123"),
    ("callback 3035550123", "3035550123"),                   # 10-digit US number
    ("GET /voice_answer?From=%2B13035550123&x=1", "3035550123"),  # percent-encoded +
    ("To=%2b17205550199", "7205550199"),
    ("unsubscribe?email=bob%40example.com", "bob"),          # percent-encoded @
])
def test_national_and_percent_encoded_contact_data_is_redacted(function_log, text, secret):
    log, stream = function_log
    log.info(text, extra={"url": text})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert secret not in entry["message"] and secret not in entry["url"]


@pytest.mark.parametrize("text", [
    "retell call started at 1772470800000",     # unix time in ms (13 digits)
    "epoch 1772470800",                          # unix time in seconds
    "CallSid CA0123456789abcdef0123456789abcdef", "MessageSid SM1234567890123456789012345678901a",
    "slot 2026-03-05T21:00Z", "took 1234 ms",
])
def test_ids_and_timestamps_that_look_like_digits_are_kept(function_log, text):
    log, stream = function_log
    log.info(text)
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == text


def test_werkzeugs_coloured_request_lines_are_plain_text_in_the_json_logs():
    # The dev stack's server (werkzeug) colours the request line of every answer but a 200 with
    # ANSI codes: in a JSON log line they are noise (and "\u001b[35m" in the log file).
    import requests
    from werkzeug.wrappers import Response

    from tools.wsgi import ServerThread

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("devstack"))
    werkzeug_log = logging.getLogger("werkzeug")
    saved = werkzeug_log.level
    werkzeug_log.addHandler(handler)
    werkzeug_log.setLevel(logging.INFO)
    try:
        with ServerThread(Response("try again later", status=503)) as server:
            assert requests.post(f"{server.url}/call_completed", timeout=5).status_code == 503
    finally:
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(saved)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines() if "/call_completed" in text]
    assert '"POST /call_completed HTTP/1.1" 503' in line["message"]
    assert "\x1b" not in line["message"] and "\\u001b" not in stream.getvalue()


def test_the_dev_stacks_request_lines_omit_a_sandboxs_query_string():
    # What our code asks a provider travels in the sandbox's query string (a QuickBooks query
    # names the customer it looks for): the dev stack's request log keeps the path only.
    import requests
    from werkzeug.wrappers import Response

    from tools.wsgi import ServerThread

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("devstack"))
    werkzeug_log = logging.getLogger("werkzeug")
    saved = werkzeug_log.level
    werkzeug_log.addHandler(handler)
    werkzeug_log.setLevel(logging.INFO)
    try:
        with ServerThread(Response("{}")) as server:
            query = "select * from Customer where DisplayName = 'James Carter'"
            requests.get(f"{server.url}/_sandbox/intuit/v3/company/1/query", params={"query": query}, timeout=5)
            requests.get(f"{server.url}/notify?kind=1", timeout=5)
    finally:
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(saved)
    assert "Carter" not in stream.getvalue()
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert any('"GET /_sandbox/intuit/v3/company/1/query?[query omitted] HTTP/1.1" 200' in m for m in messages)
    assert any('"GET /notify?kind=1 HTTP/1.1" 200' in m for m in messages)
