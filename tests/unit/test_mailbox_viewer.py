"""The local mail viewer at ``/_sandbox/resend/``, through the dev stack's own WSGI app: an email
sent to the Resend sandbox (its API, with the key) is listed and readable without a key; its
HTML only ever renders in a sandboxed frame under a strict CSP; everything else is escaped."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from shared.config import get_settings, reset_settings
from tools import devstack

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture(scope="module")
def stack():
    # The sandbox plays Resend's webhooks to PUBLIC_BASE_URL: here a port nobody serves (9,
    # discard), not somebody's dev stack on 8080.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:9")
        reset_settings()
        app, _names = devstack.build_app()
        yield Client(app)
    reset_settings()


def send(stack, subject: str, html: str, text: str) -> str:
    key = get_settings().secret("resend_api_key")
    response = stack.post("/_sandbox/resend/emails", json={
        "from": "Z3 OS <notifications@z3os.local>", "to": ["dana@sunrise.example"], "subject": subject,
        "html": html, "text": text, "headers": {"List-Unsubscribe": "<https://x.example/u>"},
        "tags": [{"name": "kind", "value": "missed_call"}]}, headers={"Authorization": f"Bearer {key}"},
        environ_base=LOOPBACK)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_the_list_and_one_message(stack):
    email_id = send(stack, "Missed call <b>from</b> Jo", "<p>Call back <script>alert(1)</script></p>",
                    "Call back Jo <at> 5")
    listing = stack.get("/_sandbox/resend/", environ_base=LOOPBACK)
    assert listing.status_code == 200 and listing.mimetype == "text/html"
    page = listing.get_data(as_text=True)
    assert f'href="/_sandbox/resend/messages/{email_id}"' in page
    assert "Missed call &lt;b&gt;from&lt;/b&gt; Jo" in page and "dana@sunrise.example" in page

    message = stack.get(f"/_sandbox/resend/messages/{email_id}", environ_base=LOOPBACK)
    body = message.get_data(as_text=True)
    assert message.status_code == 200 and "default-src 'none'" in message.headers["Content-Security-Policy"]
    assert "<script>" not in body  # the email's HTML is not in the page, only framed
    [frame] = re.findall(r"<iframe[^>]*>", body)
    assert re.search(r"\ssandbox[\s>]", frame) and f'src="/_sandbox/resend/messages/{email_id}/html"' in frame
    assert "Call back Jo &lt;at&gt; 5" in body  # the text part, escaped
    assert "List-Unsubscribe" in body and "missed_call" in body and "notifications@z3os.local" in body

    html = stack.get(f"/_sandbox/resend/messages/{email_id}/html", environ_base=LOOPBACK)
    csp = html.headers["Content-Security-Policy"]
    assert html.get_data(as_text=True) == "<p>Call back <script>alert(1)</script></p>"
    assert "default-src 'none'" in csp and csp.rstrip().endswith("sandbox") and "script-src" not in csp
    text = stack.get(f"/_sandbox/resend/messages/{email_id}/text", environ_base=LOOPBACK)
    assert text.mimetype == "text/plain" and text.get_data(as_text=True) == "Call back Jo <at> 5"


def test_the_resend_api_below_it_still_wants_its_key(stack):
    assert stack.get("/_sandbox/resend/emails", environ_base=LOOPBACK).status_code == 401


def test_only_loopback_clients_and_known_ids(stack):
    assert stack.get("/_sandbox/resend/", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    missing = "/_sandbox/resend/messages/00000000-0000-0000-0000-000000000000"
    assert stack.get(missing, environ_base=LOOPBACK).status_code == 404
