"""The start-up check outside local mode: every secret's development default is refused (found by
introspection, so a new secret cannot escape), placeholders in optional secrets, short secrets,
provider base URLs off the provider's domain, development mode on Cloud Functions, and a
function starts with only the secrets it reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.config import FUNCTION_SECRETS, ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[2]
PROD = {"GOOGLE_CLOUD_PROJECT": "z3-prod", "PUBLIC_BASE_URL": "https://api.z3os.example"}


@pytest.fixture(autouse=True)
def production_env(monkeypatch):
    for name in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "Z3_BACKEND",
                 "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)


def _alias(name: str) -> str:
    return Settings.model_fields[name].alias


def _real_secrets() -> dict[str, str]:
    return {_alias(name): f"real-{i:02d}-Zq8vLr2mW9xKp4TnB7cY3fH6jD1sG5aE" for i, name in enumerate(Settings.secret_fields())}


def _refusal(**values: str) -> str:
    with pytest.raises(ConfigurationError) as err:
        Settings(**PROD, **values)
    return str(err.value)


def test_secret_fields_are_found_by_type():
    fields = set(Settings.secret_fields())
    assert {"twilio_auth_token", "resend_webhook_secret", "twilio_webhook_shared_key", "z3_session_secret"} <= fields
    assert "twilio_account_sid" not in fields and "public_base_url" not in fields


def test_real_looking_secrets_start_and_never_print():
    settings = Settings(**PROD, **_real_secrets())
    assert settings.backend == "gcp"
    assert "Zq8vLr2mW9" not in repr(settings)


@pytest.mark.parametrize("name", Settings.secret_fields())
def test_every_secret_default_is_refused_outside_local_mode(name):
    default = Settings.model_fields[name].default
    values = _real_secrets()
    if default is None:  # optional: its local default is "absent"; a placeholder set is refused
        values[_alias(name)] = "changeme"
    else:
        assert isinstance(default, SecretStr)
        del values[_alias(name)]  # the field keeps its development default
    message = _refusal(**values)
    assert f"{_alias(name)} is a placeholder" in message


def test_the_resend_webhook_default_is_refused():
    """It was base64 of "local-dev-resend-webhook", which no marker matched: anyone could sign a
    complaint and suppress any address."""
    values = _real_secrets()
    del values["RESEND_WEBHOOK_SECRET"]
    assert "RESEND_WEBHOOK_SECRET is a placeholder" in _refusal(**values)


def test_every_secret_value_of_env_example_is_refused():
    example = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            example[key] = value
    for name in Settings.secret_fields():
        values = _real_secrets()
        values[_alias(name)] = example[_alias(name)]
        if example[_alias(name)]:
            assert f"{_alias(name)} is a placeholder" in _refusal(**values), name


def test_placeholder_in_an_optional_secret_is_refused():
    message = _refusal(**{**_real_secrets(), "TWILIO_WEBHOOK_SHARED_KEY": "changeme"})
    assert "TWILIO_WEBHOOK_SHARED_KEY is a placeholder" in message


@pytest.mark.parametrize("env_name, value, minimum", [
    ("Z3_SESSION_SECRET", "x", 32), ("Z3_SESSION_SECRET", "s3cr3t-but-only-31-characters!!", 32),
    ("TWILIO_AUTH_TOKEN", "0123456789abcde", 16), ("TWILIO_WEBHOOK_SHARED_KEY", "short-key", 16),
])
def test_short_secrets_are_refused_and_never_printed(env_name, value, minimum):
    message = _refusal(**{**_real_secrets(), env_name: value})
    assert f"{env_name} is shorter than {minimum} characters" in message
    assert value not in message


@pytest.mark.parametrize("env_name, url", [
    ("TWILIO_API_BASE_URL", "http://attacker.example"), ("TWILIO_API_BASE_URL", "http://api.twilio.com"),
    ("TWILIO_API_BASE_URL", "https://api.twilio.com.attacker.example"),
    ("TWILIO_API_BASE_URL", "https://user@attacker.example#@api.twilio.com"),
    ("RETELL_BASE_URL", "https://retell.attacker.example"), ("RESEND_API_URL", "http://127.0.0.1:9000"),
    ("STRIPE_API_BASE", "https://notstripe.com"), ("Z3_KMS_ENDPOINT", "http://kms.example.com"),
])
def test_provider_base_urls_off_the_provider_domain_are_refused(env_name, url):
    message = _refusal(**_real_secrets(), **{env_name: url})
    assert f"{env_name} must be an https:// URL on" in message


@pytest.mark.parametrize("env_name, url", [
    ("TWILIO_API_BASE_URL", "https://api.twilio.com"), ("TWILIO_API_BASE_URL", "https://api.dublin.ie1.twilio.com"),
    ("RETELL_BASE_URL", "https://api.retellai.com"), ("RESEND_API_URL", "https://api.resend.com"),
    ("STRIPE_API_BASE", "https://api.stripe.com"), ("Z3_KMS_ENDPOINT", "https://cloudkms.googleapis.com"),
])
def test_provider_base_urls_on_the_provider_domain_start(env_name, url):
    assert Settings(**PROD, **_real_secrets(), **{env_name: url})


@pytest.mark.parametrize("mode", [{"Z3_BACKEND": "local"}, {"FIRESTORE_EMULATOR_HOST": "127.0.0.1:8681"}])
def test_development_mode_is_refused_on_cloud_functions(mode):
    with pytest.raises(ConfigurationError, match="K_SERVICE is set"):
        Settings(**PROD, **mode, K_SERVICE="voice_answer")


def test_a_function_starts_with_only_its_own_secrets():
    only = {"RESEND_WEBHOOK_SECRET": "whsec_" + "QmFzZTY0U2VjcmV0Rm9yVGVzdHM=", "RESEND_API_KEY": "re_" + "R" * 30}
    settings = Settings(**PROD, K_SERVICE="email_events", **only)
    assert settings.secret("resend_webhook_secret") == only["RESEND_WEBHOOK_SECRET"]
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN is a placeholder"):
        settings.secret("twilio_auth_token")  # not mounted: never the development value
    assert "RESEND_WEBHOOK_SECRET is a placeholder" in _refusal(K_SERVICE="email_events", RESEND_API_KEY="re_" + "R" * 30)
    # a secret it does not need but that is set must still be real
    assert "STRIPE_SECRET_KEY is a placeholder" in _refusal(K_SERVICE="email_events", **only, STRIPE_SECRET_KEY="changeme")


def test_an_unknown_function_name_is_refused():
    assert "K_SERVICE=no_such_function is not a function" in _refusal(**_real_secrets(), K_SERVICE="no_such_function")


def test_every_deployed_function_is_in_the_table():
    assert set(FUNCTION_SECRETS) == {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
