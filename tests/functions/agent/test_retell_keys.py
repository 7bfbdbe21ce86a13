"""Retell signs webhooks and custom-function calls with the API key that has the webhook badge
(RETELL_WEBHOOK_KEY), while our API calls (register-phone-call) use RETELL_API_KEY: two keys."""

from __future__ import annotations

import json

import pytest

from tests.functions.agent.support import call_doc, post_retell, retell_signature, start_ai_call
from tests.functions.local import local_settings

API_KEY = "key_for_api_calls"
WEBHOOK_KEY = "key_with_the_webhook_badge"


@pytest.fixture
def retell_sandbox():
    from tools.sandboxes.retell import RetellSandbox

    with RetellSandbox(api_key=API_KEY) as sandbox:  # refuses any other bearer token
        yield sandbox


@pytest.fixture
def settings(tmp_path, retell_sandbox):
    return local_settings(tmp_path, RETELL_BASE_URL=retell_sandbox.url, RETELL_API_KEY=API_KEY,
                          RETELL_WEBHOOK_KEY=WEBHOOK_KEY)


def test_webhooks_and_tools_signed_with_the_webhook_key_are_accepted_while_api_calls_use_the_api_key(
        client, settings, ports, business, retell_sandbox):
    sid, call = start_ai_call(client, settings, retell_sandbox)  # registered with the API key
    assert retell_sandbox.received[-1].path == "/v2/register-phone-call"

    body = {"event": "call_started", "call": {**call, "call_status": "ongoing"}}
    raw = json.dumps(body).encode()
    by_webhook_key = retell_signature(settings, raw, key=WEBHOOK_KEY)
    response = post_retell(client, settings, "retell_webhook", None, raw=raw, signature=by_webhook_key)
    assert response.status_code == 200 and response.get_json()["result"] == "applied"
    assert call_doc(ports, sid)["retell_status"] == "ongoing"

    tool = json.dumps({"name": "lookup_caller", "args": {}, "call": call}).encode()
    response = post_retell(client, settings, "retell_tools", None, raw=tool,
                           signature=retell_signature(settings, tool, key=WEBHOOK_KEY))
    assert response.status_code == 200 and response.get_json()["known"] is True


def test_the_api_key_does_not_verify_once_a_webhook_key_is_set(client, settings, business, retell_sandbox):
    _sid, call = start_ai_call(client, settings, retell_sandbox)
    for function, body in (("retell_webhook", {"event": "call_started", "call": call}),
                           ("retell_tools", {"name": "lookup_caller", "args": {}, "call": call})):
        raw = json.dumps(body).encode()
        by_api_key = retell_signature(settings, raw, key=API_KEY)
        assert post_retell(client, settings, function, None, raw=raw, signature=by_api_key).status_code == 403
