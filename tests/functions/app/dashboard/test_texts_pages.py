"""The Texts pages through the real app: sending through the one send gate (the real Twilio SDK
against the loopback Twilio sandbox), refusals with their reason, conversations and delivery
status, the consent record with its chain check and its proof (JSON and printable)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shared import consent
from shared.contacts import ids
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import TenantScope
from tests.functions.app.conftest import add_member, csrf_of, make_business, sign_in
from tests.functions.app.dashboard.conftest import OPTED_IN, OPTED_OUT, STRANGER

def _send(app_client, to: str, body: str, *, send_id: str | None = None):
    page = app_client.get("/texts")
    form_id = send_id or re.search(r'name="send_id" value="([^"]+)"', page.text).group(1)
    return app_client.post("/texts/send", data={"csrf_token": csrf_of(page.text), "to": to, "body": body,
                                                "send_id": form_id}), form_id


def test_a_text_to_an_opted_in_number_is_sent_once_and_its_status_shows(app_client, texting, signed_in, twilio):
    reply, send_id = _send(app_client, "(303) 555-0142", "Your part arrived; we can come Tuesday.")
    assert reply.status_code == 303
    location = reply.headers["Location"]
    assert "303" not in location.split("/texts/")[1].split("?")[0] and "555" not in location  # an id, not the number
    assert len(twilio.sent_to(OPTED_IN)) == 1
    thread = app_client.get(location)
    assert thread.status_code == 200 and "Your part arrived" in thread.text
    assert re.search(r'class="status queued">queued<', thread.text), "the delivery status of the text"
    again, _ = _send(app_client, OPTED_IN, "Your part arrived; we can come Tuesday.", send_id=send_id)
    assert again.status_code == 303 and len(twilio.sent_to(OPTED_IN)) == 1  # the same form twice is one text
    listing = app_client.get("/texts")
    assert "Your part arrived" in listing.text and ids.number_id(texting, OPTED_IN) in listing.text


@pytest.mark.parametrize("number, words", [
    (OPTED_OUT, "this number has opted out"),
    (STRANGER, "this number has not opted in"),
])
def test_a_refused_text_shows_the_gates_reason_and_nothing_goes_out(app_client, texting, signed_in, twilio, number,
                                                                    words):
    reply, _ = _send(app_client, number, "Reminder: your appointment is tomorrow.")
    assert reply.status_code == 422 and words in reply.text
    assert twilio.sent_to(number) == []
    thread = app_client.get(f"/texts/{ids.number_id(texting, number)}")
    assert "not sent" in thread.text and words in thread.text  # the stored refusal, with its reason


def test_quiet_hours_in_the_recipients_zone_are_the_reason_at_10_pm_denver(app_client, texting, business, twilio,
                                                                           clock):
    clock.current = dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.timezone.utc)  # 22:00 in Denver
    assert sign_in(app_client, business.owner_email).status_code == 302
    reply, _ = _send(app_client, OPTED_IN, "Are you free tomorrow?")
    assert reply.status_code == 422
    assert "quiet hours in the recipient&#39;s time zone" in reply.text and "8:00 AM" in reply.text
    assert twilio.sent_to(OPTED_IN) == []


def test_bad_input_is_a_reason_not_a_500(app_client, texting, signed_in, twilio):
    assert "valid US phone number" in _send(app_client, "+44 20 7946 0958", "hello")[0].text
    assert _send(app_client, OPTED_IN, "   ")[0].status_code == 422
    assert _send(app_client, OPTED_IN, "x" * 1601)[0].status_code == 422
    assert _send(app_client, OPTED_IN, "hello", send_id="../x")[0].status_code == 422
    assert twilio.sent_to(OPTED_IN) == []


def test_the_consent_record_its_chain_check_and_its_proof(app_client, texting, signed_in, ports):
    number_id = ids.number_id(texting, OPTED_OUT)
    page = app_client.get(f"/texts/{number_id}")
    assert 'class="consent-state">opted out<' in page.text and "intact</strong> (2 events)" in page.text
    assert "You are unsubscribed." in page.text and "STOP" in page.text
    download = app_client.get(f"/texts/{number_id}/consent.json")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    proof = download.get_json()
    assert proof["number"] == OPTED_OUT and proof["state"] == "opted_out" and proof["chain"]["ok"]
    events = proof["events"]
    assert [e["action"] for e in events] == ["opt_in", "opt_out"] and events[1]["prev_hash"] == events[0]["hash"]
    recomputed = consent.event_hash({k: v for k, v in consent.history(texting, OPTED_OUT)[1].hashed_fields().items()})
    assert recomputed == events[1]["hash"]
    printable = app_client.get(f"/texts/{number_id}/consent")
    assert printable.status_code == 200 and events[1]["hash"] in printable.text and "Disclosure given" in printable.text
    # someone edits the stored history: the page says so
    ports.store().update(f"tenants/{texting.tenant_id}/consent/{OPTED_OUT}/events/00000001",
                         {"disclosure": "Reply YES to get texts forever."})
    assert "broken at event 1" in app_client.get(f"/texts/{number_id}").text
    assert app_client.get(f"/texts/{number_id}/consent.json").get_json()["chain"]["ok"] is False


def test_roles_and_another_businesss_ids(app_client, client, business, texting, ports):
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    foreign_id = ids.number_id(TenantScope(ports.store(), other.tenant_id), OPTED_IN)
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    own_id = ids.number_id(texting, OPTED_IN)
    page = app_client.get(f"/texts/{own_id}")
    assert page.status_code == 200 and "Send text" not in page.text and "Text consent" not in page.text
    assert app_client.get(f"/texts/{own_id}/consent.json").status_code == 403
    assert app_client.post("/texts/send", data={"csrf_token": csrf_of(page.text), "to": OPTED_IN, "body": "hi",
                                                "send_id": "a" * 20}).status_code == 403
    assert sign_in(app_client, business.owner_email).status_code == 302
    for path in (f"/texts/{foreign_id}", f"/texts/{foreign_id}/consent.json", "/texts/not-an-id",
                 f"/texts/{'A' * 43}"):
        assert app_client.get(path).status_code == 404, path
    assert ports.store().query(Query(f"tenants/{business.tenant_id}/messages")) == []


def test_no_text_goes_out_before_the_owner_confirmed_the_email(app_client, texting, business, signed_in, twilio, ports):
    owner = f"tenants/{business.tenant_id}/users/{business.owner_id}"
    ports.store().update(owner, {"email_verified_at": None})
    reply, _ = _send(app_client, OPTED_IN, "Your part arrived.")
    assert reply.status_code == 403 and "Confirm your email address first" in reply.text
    assert twilio.sent_to(OPTED_IN) == []
