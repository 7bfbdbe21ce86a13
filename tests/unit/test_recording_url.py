"""Which recording URLs the Retell copy fetches, outside and inside development mode."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.voice.recording_url import UnsafeRecordingUrl, check_recording_url


@pytest.fixture
def production(monkeypatch):
    for name in ("FIRESTORE_EMULATOR_HOST", "Z3_BACKEND", "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    secrets = {Settings.model_fields[n].alias: f"real-{i:02d}-Zq8vLr2mW9xKp4TnB7cY3fH6jD1sG5aE"
               for i, n in enumerate(Settings.secret_fields())}
    return Settings(GOOGLE_CLOUD_PROJECT="z3-prod", PUBLIC_BASE_URL="https://api.z3os.example", **secrets)


@pytest.mark.parametrize("url", [
    "https://dxc03zgurdly9.cloudfront.net/0f3a/recording.wav",
    "https://retellai.s3.us-west-2.amazonaws.com/call_1/recording.wav?X-Amz-Signature=abc",
])
def test_retells_hosts_are_fetched(production, url):
    assert check_recording_url(production, url) == url


@pytest.mark.parametrize("url", [
    "http://dxc03zgurdly9.cloudfront.net/0f3a/recording.wav",          # not https
    "https://someone-else.cloudfront.net/recording.wav",               # CloudFront is everybody's
    "https://dxc03zgurdly9.cloudfront.net.attacker.example/r.wav",
    "https://dxc03zgurdly9.cloudfront.net:8443/r.wav",
    "https://user:pw@dxc03zgurdly9.cloudfront.net/r.wav",
    "http://127.0.0.1:9000/recordings/x.wav",                          # the sandbox: development only
    "https://localhost/recordings/x.wav",
    "http://169.254.169.254/computeMetadata/v1/", "", None,
])
def test_anything_else_is_refused_in_production(production, url):
    with pytest.raises(UnsafeRecordingUrl):
        check_recording_url(production, url)


def test_the_loopback_sandbox_is_allowed_in_development_only(production):
    url = "http://127.0.0.1:9000/recordings/x.wav"
    assert check_recording_url(Settings(Z3_BACKEND="local"), url) == url
    with pytest.raises(UnsafeRecordingUrl):
        check_recording_url(Settings(Z3_BACKEND="local"), "http://10.0.0.7/recordings/x.wav")


def test_the_allowlist_is_a_setting(production):
    settings = production.model_copy(update={"retell_recording_hosts": "recordings.retellai.com"})
    assert check_recording_url(settings, "https://recordings.retellai.com/r.wav")
    with pytest.raises(UnsafeRecordingUrl):
        check_recording_url(settings, "https://dxc03zgurdly9.cloudfront.net/r.wav")
