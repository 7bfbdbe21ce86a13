"""Helpers for the voice function tests: a seeded business, Twilio-signed posts, TwiML reading."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from shared.ports import StoreUnavailable

TENANT = "t_sunrise"
NUMBER = "+13035550100"
CALLER = "+17205550199"
DANA = "+13035550111"
LEE = "+13035550122"
SPAMMER = "+17205550666"
ACCOUNT = "AC" + "0" * 32
# Monday March 2 2026, 10:00 in Denver (open) and 20:00 (closed)
OPEN = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
CLOSED = dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.timezone.utc)

MENU = {
    "enabled": True,
    "options": {
        "1": {"label": "Scheduling", "action": "ai", "keywords": ["appointment", "book"]},
        "2": {"label": "Billing", "action": "forward", "forward_to": ["dana"], "keywords": ["bill", "invoice"]},
        "3": {"label": "Emergencies", "action": "forward", "forward_to": ["dana", "lee"], "keywords": ["leak"]},
    },
}


def voice_settings(**changes: Any) -> dict[str, Any]:
    from shared.voice.settings import VoiceSettings

    base: dict[str, Any] = {
        "team": [{"id": "dana", "name": "Dana Rivera", "number": DANA}, {"id": "lee", "name": "Lee Park", "number": LEE}],
        "blocked_numbers": [SPAMMER],
        "after_hours_action": "voicemail",
    }
    base.update(changes)
    return VoiceSettings(**base).to_doc()


def seed(ports, **voice: Any):
    """The business "Sunrise Plumbing" in Denver, with a team and a contact."""
    from shared import tenants
    from shared.tenants import TenantScope
    from shared.voice.contacts import save_contact

    store = ports.store()
    tenants.create_tenant(store, tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana Rivera",
                          contact_email="owner@sunrise.example", time_zone="America/Denver", numbers=[NUMBER])
    store.update(f"tenants/{TENANT}", {"settings.voice": voice_settings(**voice)})
    save_contact(TenantScope(store, TENANT), CALLER, "Maria Lopez", ports.clock().now())
    return TenantScope(store, TENANT)


def set_voice(ports, **voice: Any) -> None:
    ports.store().update(f"tenants/{TENANT}", {"settings.voice": voice_settings(**voice)})


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_recording_sid() -> str:
    return "RE" + uuid.uuid4().hex


def call_params(call_sid: str, *, from_: str = CALLER, to: str = NUMBER, status: str = "ringing", **extra: str) -> dict[str, str]:
    params = {"CallSid": call_sid, "AccountSid": ACCOUNT, "From": from_, "To": to, "CallStatus": status,
              "Direction": "inbound", "ApiVersion": "2010-04-01", "Called": to, "Caller": from_}
    params.update(extra)
    return params


def sign(settings, url: str, params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(settings.secret("twilio_auth_token")).compute_signature(url, params)


def post(client, settings, function: str, params: dict[str, str], *, query: str | dict | None = None,
         signature: str | None = None, headers: dict[str, str] | None = None):
    """POST like Twilio: form body, ``X-Twilio-Signature`` over our public URL of the function."""
    if isinstance(query, dict):
        query = urlencode(query)
    url = settings.function_url(function) + (f"?{query}" if query else "")
    sig = sign(settings, url, params) if signature is None else signature
    all_headers = {"X-Twilio-Signature": sig} if sig else {}
    all_headers.update(headers or {})
    return client(function).post("/" + (f"?{query}" if query else ""), data=params, headers=all_headers)


def follow(client, settings, url: str, params: dict[str, str]):
    """Post to one of the callback URLs our TwiML handed to Twilio (absolute, with its query)."""
    parsed = urlparse(url)
    function = parsed.path.rsplit("/", 1)[-1]
    return post(client, settings, function, params, query=parsed.query)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.get_data())


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def call_doc(ports, call_sid: str) -> dict[str, Any] | None:
    return ports.store().get(f"tenants/{TENANT}/calls/{call_sid}")


class DownStore:
    """A document store that is unreachable."""

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        def fail(*args: Any, **kwargs: Any):
            raise StoreUnavailable("store is down (test)")

        return fail


def task_poster(client):
    """A dispatcher poster that delivers tasks to the functions under test, not over the network."""

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        function = urlparse(url).path.rsplit("/", 1)[-1]
        return client(function).post("/", data=body, headers=headers).status_code

    return post
