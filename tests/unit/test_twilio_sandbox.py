"""The Twilio sandbox speaks Twilio's wire format: the real SDK works against it unchanged."""

from __future__ import annotations

import base64

import pytest
import requests

from shared.config import Settings
from shared.providers import twilio as provider
from tools.sandboxes.twilio import TwilioSandbox, silent_wav


@pytest.fixture
def sandbox():
    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local"), callbacks="manual") as sb:
        yield sb


@pytest.fixture
def settings(sandbox):
    return Settings(Z3_BACKEND="local", TWILIO_API_BASE_URL=sandbox.url)


def test_the_sdk_client_is_pointed_at_the_sandbox_and_cached(settings, sandbox):
    client = provider.client(settings)
    assert client is provider.client(settings)
    assert client.api.base_url == sandbox.url
    assert provider.client(Settings(Z3_BACKEND="local")).api.base_url == "https://api.twilio.com"


def test_messages_create_fetch_list_and_callbacks(settings, sandbox):
    from twilio.request_validator import RequestValidator

    client = provider.client(settings)
    created = client.messages.create(to="+13035550142", from_="+13035550100", body="Hello",
                                     status_callback="https://z3.example/sms_status")
    assert created.sid.startswith("SM") and len(created.sid) == 34 and created.status == "queued"
    assert created.direction == "outbound-api" and created.date_created is not None
    assert client.messages(created.sid).fetch().body == "Hello"
    assert [m.sid for m in client.messages.list(to="+13035550142")] == [created.sid]
    [post] = [r for r in sandbox.requests if r.method == "POST"]
    assert post.form["To"] == ["+13035550142"] and post.auth_ok
    callbacks = sandbox.take_callbacks()
    assert [c.params["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    validator = RequestValidator(settings.secret("twilio_auth_token"))
    assert all(validator.validate(c.url, c.params, c.signature) for c in callbacks)


@pytest.mark.parametrize("kwargs,code", [
    ({"to": "+1555", "from_": "+13035550100", "body": "x"}, 21211),
    ({"to": "+13035550142", "body": "x"}, 21603),
    ({"to": "+13035550142", "from_": "+13035550100", "body": ""}, 21602),
    ({"to": "+13035550142", "from_": "+13035550100", "body": "x" * 1601}, 21617),
])
def test_errors_are_twilios(settings, kwargs, code):
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as raised:
        provider.client(settings).messages.create(**kwargs)
    assert raised.value.status == 400 and raised.value.code == code


def test_basic_auth_is_checked(sandbox):
    url = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"
    assert requests.get(url).status_code == 401
    assert requests.get(url, auth=(sandbox.account_sid, "wrong")).json()["code"] == 20003
    other = f"{sandbox.url}/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert requests.get(other, auth=(sandbox.account_sid, sandbox.auth_token)).status_code == 404


def test_calls_update(settings, sandbox):
    client = provider.client(settings)
    sid = sandbox.add_call()
    assert client.calls(sid).update(twiml="<Response><Say>Bye</Say></Response>").status == "in-progress"
    assert client.calls(sid).update(status="completed").status == "completed"
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as raised:
        client.calls(sid).update(url="https://z3.example/voice_ivr")
    assert raised.value.code == 21220
    assert [u[1] for u in sandbox.call_updates][:2] == [{"Twiml": "<Response><Say>Bye</Say></Response>"},
                                                          {"Status": "completed"}]


def test_recordings_fetch_media_and_delete(settings, sandbox):
    wav = silent_wav(0.5)
    sid = sandbox.add_recording(call_sid="CA" + "2" * 32, wav=wav, mp3=b"ID3fake", duration=7)
    client = provider.client(settings)
    fetched = client.recordings(sid).fetch()
    assert fetched.call_sid == "CA" + "2" * 32 and fetched.duration == "7"
    assert provider.download_recording(settings, sid) == (wav, "audio/x-wav")
    assert provider.download_recording(settings, sid, "mp3")[0] == b"ID3fake"
    assert requests.get(sandbox.recording_url(sid)).status_code == 401  # media needs Basic auth
    assert provider.delete_recording(settings, sid) is True
    assert provider.delete_recording(settings, sid) is False
    with pytest.raises(LookupError):
        provider.download_recording(settings, sid)
    assert sandbox.deleted_recordings == [sid]


def test_recordings_can_be_made_over_http_for_simulations(settings, sandbox):
    wav = silent_wav(0.2)
    response = requests.post(f"{sandbox.url}/_control/Recordings.json",
                             data={"CallSid": "CA" + "3" * 32, "Duration": "4",
                                   "AudioBase64": base64.b64encode(wav).decode()},
                             auth=(sandbox.account_sid, sandbox.auth_token))
    assert response.status_code == 201
    sid = response.json()["sid"]
    assert provider.download_recording(settings, sid)[0] == wav


def test_failure_injection_and_unreachable(settings, sandbox):
    from twilio.base.exceptions import TwilioRestException

    sandbox.fail_next(status=503)
    with pytest.raises(TwilioRestException) as raised:
        provider.client(settings).messages.create(to="+13035550142", from_="+13035550100", body="x")
    assert provider.unavailable(raised.value)
    sandbox.stop()
    with pytest.raises(Exception) as down:
        provider.client(settings).messages.create(to="+13035550142", from_="+13035550100", body="x")
    assert provider.unavailable(down.value)
