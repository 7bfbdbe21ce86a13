"""``/api/v1/settings``, the route preview and ``/support-requests`` through the real app: the
whole settings document, a partial change validated field by field (every message in
``error.fields``, nothing saved), audited, and followed by the next call (the route preview
answers from the same rules); only owners and admins; a support request stored and emailed
once per request id."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.accounts import audit
from shared.models.tenant import Role
from shared.ports import Query
from tests.functions.app.api_world import token_for
from tests.functions.app.conftest import add_member

SATURDAY_NOON_NY = dt.datetime(2026, 3, 7, 17, 0, tzinfo=dt.timezone.utc)


def _token(ports, business, user_id=None, scope="write"):
    return token_for(ports, business.tenant_id, user_id or business.owner_id, scope)


@pytest.fixture
def owner(ports, business, clock):
    clock.current = SATURDAY_NOON_NY
    return _token(ports, business)


def _stored(ports, business):
    return ports.store().get(f"tenants/{business.tenant_id}")["settings"]


def _audits(ports, business):
    return [e for e in audit.latest(ports.store(), business.tenant_id) if e["action"] == "settings.updated"]


def _preview(app_client, owner, **body):
    reply = app_client.post("/api/v1/settings/route-preview", json=body, headers=owner)
    assert reply.status_code == 200, reply.text
    return reply.get_json()


def test_the_whole_settings_document(app_client, owner):
    reply = app_client.get("/api/v1/settings", headers=owner)
    assert reply.status_code == 200, reply.text
    settings = reply.get_json()
    assert settings["voice"]["hours"]["mon"] == [{"start": "09:00", "end": "17:00"}] and "sat" not in settings["voice"]["hours"]
    assert settings["voice"]["ivr"]["enabled"] is False and settings["scheduling"]["slot_minutes"] == 60
    assert settings["recording_retention_days"] == 90 and settings["service_improvement_opt_out"] is False
    assert settings["recording_notice"] and settings["notification_recipients"] == {}
    assert "agent_id" not in settings["voice"]  # not the business's to set


def test_new_hours_are_saved_audited_and_the_next_call_follows_them(app_client, owner, ports, business):
    assert _preview(app_client, owner, weekday="sat", time="10:00")["reason"] == "after_hours"
    reply = app_client.patch("/api/v1/settings", headers=owner, json={"voice": {
        "hours": {"mon": [{"start": "09:00", "end": "17:00"}], "sat": [{"start": "09:00", "end": "13:00"}]},
        "after_hours_action": "voicemail"}})
    assert reply.status_code == 200, reply.text
    assert reply.get_json()["voice"]["hours"] == {"mon": [{"start": "09:00", "end": "17:00"}],
                                                  "sat": [{"start": "09:00", "end": "13:00"}]}
    assert _stored(ports, business)["voice"]["after_hours_action"] == "voicemail"
    (entry,) = _audits(ports, business)
    assert set(entry["changes"]) == {"voice.hours", "voice.after_hours_action"}
    assert entry["actor_user_id"] == business.owner_id
    open_ = _preview(app_client, owner, weekday="sat", time="10:00")
    assert open_["route"] == "ai"
    assert open_["at"] == "2026-03-14T10:00:00-04:00"  # Saturday 10:00 is behind us: the next one (after DST)
    tuesday = _preview(app_client, owner, weekday="tue", time="10:00")
    assert (tuesday["route"], tuesday["reason"]) == ("voicemail", "after_hours") and "closed on Tuesday" in tuesday["detail"]
    evening = _preview(app_client, owner, weekday="sat", time="21:00")
    assert evening["at"].startswith("2026-03-07T21:00") and evening["route"] == "voicemail"
    assert evening["when"] == "Saturday 2026-03-07 at 9:00 PM" and evening["summary"].startswith("The caller is asked")


def test_invalid_changes_are_refused_field_by_field_and_nothing_is_saved(app_client, owner, ports, business):
    before = _stored(ports, business)
    shape = app_client.patch("/api/v1/settings", headers=owner, json={"voice": {
        "hours": {"mon": [{"start": "25:00", "end": "17:00"}]}, "agent_id": "agent_x"}})
    assert shape.status_code == 422
    fields = shape.get_json()["error"]["fields"]
    assert "voice.hours.mon.0.start" in fields and "voice.agent_id" in fields
    rules = app_client.patch("/api/v1/settings", headers=owner, json={
        "recording_retention_days": 45, "voice": {"default_forward_to": ["nobody"], "blocked_numbers": ["12"]},
        "scheduling": {"windows": {"tue": [{"start": "14:00", "end": "10:00"}]}},
        "notification_recipients": {"call_summary": ["u_not_a_member"]}})
    assert rules.status_code == 422, rules.text
    error = rules.get_json()["error"]
    assert error["code"] == "invalid_input" and error["field"] in error["fields"]
    assert {"voice.blocked_numbers", "scheduling.windows.tue.0"} <= set(error["fields"]), error
    retention = app_client.patch("/api/v1/settings", headers=owner, json={
        "recording_retention_days": 45, "notification_recipients": {"call_summary": ["u_not_a_member"]}}).get_json()
    assert set(retention["error"]["fields"]) == {"recording_retention_days", "notification_recipients.call_summary"}
    nulled = app_client.patch("/api/v1/settings", headers=owner, json={"voice": {"greeting": None}})
    assert nulled.status_code == 422 and "voice.greeting" in nulled.get_json()["error"]["fields"]
    assert _stored(ports, business) == before and _audits(ports, business) == []


def test_the_phone_menu_and_slots_change_field_by_field(app_client, owner, ports, business):
    menu = {"options": {"1": {"label": "Sales", "action": "ai"}, "2": {"label": "Service", "action": "voicemail"}},
            "prompt": "Press 1 for sales."}
    assert app_client.patch("/api/v1/settings", headers=owner, json={"voice": {"ivr": menu}}).status_code == 200
    on = app_client.patch("/api/v1/settings", headers=owner, json={"voice": {"ivr": {"enabled": True}},
                                                                   "scheduling": {"slot_minutes": 30}})
    assert on.status_code == 200, on.text
    ivr, scheduling = on.get_json()["voice"]["ivr"], on.get_json()["scheduling"]
    assert ivr["enabled"] and ivr["prompt"] == "Press 1 for sales." and sorted(ivr["options"]) == ["1", "2"]
    assert scheduling["slot_minutes"] == 30 and scheduling["windows"]["mon"] == [{"start": "09:00", "end": "17:00"}]
    assert _preview(app_client, owner, weekday="mon", time="10:00")["route"] == "ivr"
    forever = app_client.patch("/api/v1/settings", headers=owner, json={"recording_retention_days": None,
                                                                        "transcript_retention_days": None})
    assert forever.get_json()["recording_retention_days"] is None
    assert _stored(ports, business)["transcript_retention_days"] is None
    assert app_client.patch("/api/v1/settings", headers=owner, json={}).status_code == 200
    assert sorted(sorted(e["changes"]) for e in _audits(ports, business)) == [
        ["recording_retention_days", "transcript_retention_days"], ["scheduling.slot_minutes", "voice.ivr.enabled"],
        ["voice.ivr.options", "voice.ivr.prompt"]]  # the empty change recorded nothing


def test_the_route_preview_reads_the_number_from_the_body(app_client, owner):
    vip, blocked = "+14155550123", "+14155550124"
    body = {"voice": {"team": [{"id": "dana", "name": "Dana", "number": "+13035550177"}],
                      "blocked_numbers": [blocked], "vip_numbers": [vip], "vip_forward_to": ["dana"]}}
    assert app_client.patch("/api/v1/settings", headers=owner, json=body).status_code == 200
    rejected = _preview(app_client, owner, number=blocked, weekday="mon", time="10:00")
    assert (rejected["route"], rejected["reason"]) == ("rejected", "blocked_caller")
    rung = _preview(app_client, owner, number="(415) 555-0123", weekday="sun", time="03:00")
    assert rung["route"] == "forward" and rung["forward_to"] == ["+13035550177"] and "Dana" in rung["summary"]
    assert _preview(app_client, owner, weekday="mon", time="10:00")["route"] == "ai"  # no caller id
    for body, field in (({"number": "12", "weekday": "mon", "time": "10:00"}, "number"),
                        ({"weekday": "mon", "time": "9pm"}, "time"), ({"weekday": "friday", "time": "10:00"}, "weekday")):
        reply = app_client.post("/api/v1/settings/route-preview", json=body, headers=owner)
        assert reply.status_code == 422, body
        error = reply.get_json()["error"]
        assert error.get("field") == field or field in error.get("fields", {}), error


def test_only_owners_and_admins_see_and_change_settings(app_client, owner, ports, business):
    admin = _token(ports, business, add_member(ports, business, "admin@sunrise.example", Role.admin))
    staff = _token(ports, business, add_member(ports, business, "staff@sunrise.example", Role.staff))
    assert app_client.get("/api/v1/settings", headers=admin).status_code == 200
    assert app_client.patch("/api/v1/settings", headers=admin, json={"marketing_email_opt_in": True}).status_code == 200
    assert app_client.get("/api/v1/settings", headers=staff).status_code == 403
    assert app_client.post("/api/v1/settings/route-preview", headers=staff,
                           json={"weekday": "mon", "time": "10:00"}).status_code == 403
    reader = _token(ports, business, scope="read")
    assert app_client.get("/api/v1/settings", headers=reader).status_code == 200
    assert app_client.patch("/api/v1/settings", headers=reader, json={"marketing_email_opt_in": False}).status_code == 403
    assert _stored(ports, business)["marketing_email_opt_in"] is True


# --- support requests ---------------------------------------------------------------------------

REQUEST = {"topic": "calls", "subject": "Greeting cut off", "message": "Callers hear only half of our greeting."}


def _support_requests(ports, business):
    return ports.store().query(Query(f"tenants/{business.tenant_id}/support_requests"))


def test_a_support_request_is_stored_and_emailed_once_per_request_id(app_client, owner, ports, business, outbox, clock):
    request_id = "sr_" + "k" * 24
    made = app_client.post("/api/v1/support-requests", json={**REQUEST, "request_id": request_id}, headers=owner)
    assert made.status_code == 201, made.text
    answer = made.get_json()
    assert answer["id"] == request_id and answer["created"] is True
    assert dt.datetime.fromisoformat(answer["expire_at"]) == clock.now() + dt.timedelta(days=730)
    assert outbox.last("support_request").context["message"] == REQUEST["message"]
    clock.advance(seconds=30)
    again = app_client.post("/api/v1/support-requests", json={**REQUEST, "request_id": request_id}, headers=owner)
    assert again.get_json() == {**answer, "created": False}  # the first request's expiry
    assert len(_support_requests(ports, business)) == 1
    assert len({t.dedup_key for t in outbox.sent if t.template.startswith("support")}) == 2
    fresh = app_client.post("/api/v1/support-requests", json=REQUEST, headers=owner).get_json()
    assert fresh["created"] and fresh["id"].startswith("sr_") and fresh["id"] != request_id
    assert len(_support_requests(ports, business)) == 2


def test_an_incomplete_support_request_is_refused_field_by_field(app_client, owner, ports, business, outbox):
    viewer = _token(ports, business, add_member(ports, business, "viewer@sunrise.example", Role.viewer))
    assert app_client.post("/api/v1/support-requests", json=REQUEST, headers=viewer).status_code == 403
    reply = app_client.post("/api/v1/support-requests", json={**REQUEST, "subject": "x", "message": "short"},
                            headers=owner)
    assert reply.status_code == 422
    assert set(reply.get_json()["error"]["fields"]) == {"subject", "message"}
    bad_id = app_client.post("/api/v1/support-requests", json={**REQUEST, "request_id": "../x"}, headers=owner)
    assert bad_id.status_code == 422 and "request_id" in bad_id.get_json()["error"]["fields"]
    assert not _support_requests(ports, business) and not outbox.sent


def test_help_names_the_support_topics_and_the_policies_with_their_versions(app_client, ports, business):
    from shared.support import requests as support

    reply = app_client.get("/api/v1/help", headers=_token(ports, business))
    assert reply.status_code == 200, reply.text
    found = reply.get_json()
    assert found["topics"] == list(support.TOPICS)
    policy = found["privacy_policy"]
    assert policy["version"] == ports.settings.z3_policy_version and policy["published"] is True
    assert policy["url"].endswith("/legal/privacy")
    assert app_client.get(policy["url"].removeprefix("/app")).status_code == 200
    assert found["terms_of_service"]["version"] == ports.settings.z3_terms_version
