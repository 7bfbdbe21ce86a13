"""The Texts API through the real app: sending through the one send gate (the real Twilio SDK
against the loopback Twilio sandbox), once per send_id, refusals as 422 with the gate's reason,
conversations, a thread with each text's delivery status (Twilio's signed callbacks through
``sms_status``), and the consent proof, the same document as the page's download."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.contacts import ids
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import TenantScope
from shared.voice.contacts import save_contact
from tests.functions.app.api_world import member_token
from tests.functions.app.conftest import make_business
from tests.functions.app.dashboard import conftest as dashboard
from tests.functions.app.dashboard.conftest import OPTED_IN, OPTED_OUT, STRANGER
from tests.functions.local import local_settings

SEND_ID = "send-0123456789abcdef"
texting = dashboard.texting  # the texting pages' business: a Denver number, one opted-in, one opted-out caller


@pytest.fixture
def settings(tmp_path, twilio_server):
    return local_settings(tmp_path, TWILIO_API_BASE_URL=twilio_server.url)


token = member_token


def send(app_client, headers, to: str, body: str, send_id: str = SEND_ID):
    return app_client.post("/api/v1/messages", json={"to": to, "body": body, "send_id": send_id}, headers=headers)


def _error(reply, status: int, code: str, field: str | None = None) -> dict:
    assert reply.status_code == status, reply.text
    error = reply.get_json()["error"]
    assert error["code"] == code and error["message"] and error.get("field") == field, error
    return error


def test_staff_send_a_text_once_per_send_id_and_see_its_delivery_status(app_client, client, settings, ports,
                                                                         business, texting, twilio):
    staff = token(ports, business, Role.staff)
    sent = send(app_client, staff, "(303) 555-0142", "Your part arrived; we can come Tuesday.")
    assert sent.status_code == 201, sent.text
    message = sent.get_json()
    number_id = ids.number_id(texting, OPTED_IN)
    assert message["status"] == "queued" and message["direction"] == "outbound" and message["to"] == OPTED_IN
    assert message["number_id"] == number_id and message["id"].startswith("SM")
    assert len(twilio.sent_to(OPTED_IN)) == 1
    # a retry (a timeout, a double click) is the same answer and no second text
    again = send(app_client, staff, OPTED_IN, "Your part arrived; we can come Tuesday.")
    assert again.status_code == 201 and again.get_json() == message
    assert len(twilio.sent_to(OPTED_IN)) == 1
    # the same key for other words is a client bug, not a new text
    _error(send(app_client, staff, OPTED_IN, "Something else"), 409, "conflict", "send_id")
    assert len(twilio.sent_to(OPTED_IN)) == 1
    # Twilio reports delivery: the thread shows it
    for callback in twilio.take_callbacks():
        assert callback.url == settings.function_url("sms_status")
        assert client("sms_status").post("/", data=callback.params, headers=callback.headers).status_code == 204
    thread = app_client.get(f"/api/v1/numbers/{number_id}/messages", headers=staff)
    assert thread.status_code == 200
    answer = thread.get_json()
    assert answer["number_id"] == number_id and answer["number"] == OPTED_IN
    [text] = answer["messages"]
    assert text["id"] == message["id"] and text["status"] == "delivered" and text["number_id"] == number_id
    # a new send_id is a new text
    assert send(app_client, staff, OPTED_IN, "See you Tuesday.", send_id="send-fedcba9876543210").status_code == 201
    assert len(twilio.sent_to(OPTED_IN)) == 2


@pytest.mark.parametrize("number, code, words", [
    (OPTED_OUT, "opted_out", "this number has opted out"),
    (STRANGER, "not_opted_in", "this number has not opted in"),
])
def test_a_refusal_is_422_with_the_gates_reason_and_nothing_goes_out(app_client, ports, business, texting, twilio,
                                                                     number, code, words):
    owner = token(ports, business, Role.owner)
    error = _error(send(app_client, owner, number, "Reminder: your appointment is tomorrow."), 422, code, "to")
    assert words in error["message"] and "retry_at" not in error
    assert twilio.sent_to(number) == []
    thread = app_client.get(f"/api/v1/numbers/{ids.number_id(texting, number)}/messages", headers=owner).get_json()
    [stored] = thread["messages"]  # the refusal is stored, with its reason
    assert stored["status"] == "blocked" and stored["blocked_reason"] == code


def test_quiet_hours_in_the_recipients_zone_carry_the_next_allowed_time(app_client, ports, business, texting, twilio,
                                                                        clock):
    clock.current = dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.timezone.utc)  # 22:00 in Denver
    error = _error(send(app_client, token(ports, business, Role.admin), OPTED_IN, "Are you free tomorrow?"), 422,
                   "quiet_hours", "to")
    assert dt.datetime.fromisoformat(error["retry_at"]) == dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.timezone.utc)
    assert "8:00 AM" in error["message"] and "America/Denver" in error["message"]
    assert twilio.sent_to(OPTED_IN) == []


def test_bad_input_is_a_field_error(app_client, ports, business, texting, twilio):
    owner = token(ports, business, Role.owner)
    _error(send(app_client, owner, "+44 20 7946 0958", "hello"), 422, "invalid_input", "to")
    _error(send(app_client, owner, "not a number", "hello"), 422, "invalid_input", "to")
    _error(send(app_client, owner, OPTED_IN, "   "), 422, "invalid_input", "body")
    _error(send(app_client, owner, OPTED_IN, "x" * 1601), 422, "invalid_input", "body")
    _error(send(app_client, owner, OPTED_IN, "hello", send_id="../x"), 422, "invalid_input", "send_id")
    reply = app_client.post("/api/v1/messages", json={"to": OPTED_IN, "body": "hello"}, headers=owner)
    _error(reply, 422, "invalid_input", "send_id")  # required: without it a retry would text twice
    assert twilio.sent_to(OPTED_IN) == []


def test_roles_and_the_confirmed_owner_rule(app_client, ports, business, texting, twilio):
    viewer = token(ports, business, Role.viewer)
    _error(send(app_client, viewer, OPTED_IN, "hi"), 403, "forbidden")
    _error(send(app_client, token(ports, business, Role.staff, "read"), OPTED_IN, "hi"), 403, "forbidden")
    number_id = ids.number_id(texting, OPTED_IN)
    assert app_client.get(f"/api/v1/numbers/{number_id}/messages", headers=viewer).status_code == 200
    assert app_client.get("/api/v1/conversations", headers=viewer).status_code == 200
    _error(app_client.get(f"/api/v1/numbers/{number_id}/consent/proof", headers=viewer), 403, "forbidden")
    ports.store().update(f"tenants/{business.tenant_id}/users/{business.owner_id}", {"email_verified_at": None})
    error = _error(send(app_client, token(ports, business, Role.staff), OPTED_IN, "hi"), 403, "forbidden")
    assert "Confirm your email address first" in error["message"]
    assert twilio.sent_to(OPTED_IN) == []


def test_conversations_one_per_number_newest_first_with_the_contacts_name(app_client, ports, business, texting,
                                                                          twilio, clock):
    staff = token(ports, business, Role.staff)
    save_contact(texting, OPTED_IN, "Ana Lopez", clock.now())
    assert send(app_client, staff, OPTED_IN, "First text. " + "x" * 200).status_code == 201
    clock.advance(seconds=5)
    assert send(app_client, staff, OPTED_OUT, "Second text", send_id="send-second-000000").status_code == 422
    clock.advance(seconds=5)
    assert send(app_client, staff, OPTED_IN, "Third text", send_id="send-third-0000000").status_code == 201
    answer = app_client.get("/api/v1/conversations", headers=staff).get_json()
    assert answer["scanned"] == 300
    first, second = answer["items"]
    assert (first["number"], first["name"], first["messages"]) == (OPTED_IN, "Ana Lopez", 2)
    assert first["number_id"] == ids.number_id(texting, OPTED_IN)
    assert (first["preview"], first["last_direction"], first["last_status"]) == ("Third text", "outbound", "queued")
    assert (second["number"], second["name"], second["last_status"]) == (OPTED_OUT, None, "blocked")
    assert len(second["preview"]) <= 140


def test_the_consent_proof_is_the_pages_download(app_client, ports, business, texting, signed_in):
    number_id = ids.number_id(texting, OPTED_OUT)
    reply = app_client.get(f"/api/v1/numbers/{number_id}/consent/proof")  # the owner's session
    assert reply.status_code == 200
    document = reply.get_json()
    assert document == app_client.get(f"/texts/{number_id}/consent.json").get_json()
    assert document["number"] == OPTED_OUT and document["state"] == "opted_out" and document["chain"]["ok"]
    events = document["events"]
    assert [e["action"] for e in events] == ["opt_in", "opt_out"] and events[1]["prev_hash"] == events[0]["hash"]
    assert events[1]["disclosure"] == "You are unsubscribed." and events[1]["keyword"] == "STOP"
    # a number with no consent record has no proof
    _error(app_client.get(f"/api/v1/numbers/{ids.number_id(texting, STRANGER)}/consent/proof"), 404, "not_found")


def test_another_businesss_ids_are_not_found(app_client, ports, business, texting, twilio):
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    foreign_id = ids.number_id(TenantScope(ports.store(), other.tenant_id), OPTED_IN)
    owner = token(ports, business, Role.owner)
    for path in (f"/api/v1/numbers/{foreign_id}/messages", f"/api/v1/numbers/{foreign_id}/consent/proof",
                 "/api/v1/numbers/not-an-id/messages", f"/api/v1/numbers/{'A' * 43}/consent/proof"):
        _error(app_client.get(path, headers=owner), 404, "not_found")
    assert ports.store().query(Query(f"tenants/{business.tenant_id}/messages")) == []
