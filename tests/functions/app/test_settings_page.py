"""The settings page through the real app: each section saves through the settings service
(validated field by field, audited), the route preview answers from the voice rules engine, and
only owners and admins get in."""

from __future__ import annotations

import re

import pytest

from shared.accounts import audit
from shared.models.tenant import Role
from tests.functions.app.conftest import add_member, csrf_of, sign_in


def _tenant(ports, business):
    return ports.store().get(f"tenants/{business.tenant_id}")


def _settings_audit(ports, business):
    return [e for e in audit.latest(ports.store(), business.tenant_id) if e["action"] == "settings.updated"]


def _post(app_client, csrf, section, **form):
    return app_client.post(f"/settings/{section}", data={"csrf_token": csrf, **form})


def _hours_form(**days):
    return {f"hours_{day}": days.get(day, "") for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")} | {
        "holidays": "", "open_action": "ai", "after_hours_action": "ai"}


def test_the_owner_sees_every_section_with_labelled_controls(app_client, signed_in):
    page = app_client.get("/settings")
    assert page.status_code == 200
    for label in ("Business name", "Greeting", "Recording notice", "Monday hours", "Holidays", "Caller number",
                  "Blocked callers", "VIP callers", "Team members to ring", "Key 1 label", "Appointment length",
                  "Keep recordings and transcripts", "call data to improve the service", "Call summaries"):
        assert label in page.text, label
    assert "<script" not in page.text


def test_a_new_greeting_is_saved_and_audited(app_client, signed_in, ports, business):
    reply = _post(app_client, signed_in, "greeting", greeting="Harbor Dental, how can we help?",
                  recording_notice="Calls are recorded for quality.")
    assert reply.status_code == 200 and "The next call follows the new settings." in reply.text
    settings = _tenant(ports, business)["settings"]
    assert settings["voice"]["greeting"] == "Harbor Dental, how can we help?"
    assert settings["recording_notice"] == "Calls are recorded for quality."
    entries = _settings_audit(ports, business)
    assert len(entries) == 1 and entries[0]["actor_user_id"] == business.owner_id
    assert entries[0]["changes"]["voice.greeting"] == {"old": "", "new": "Harbor Dental, how can we help?"}
    # the same again changes nothing and records nothing
    _post(app_client, signed_in, "greeting", greeting="Harbor Dental, how can we help?",
          recording_notice="Calls are recorded for quality.")
    assert len(_settings_audit(ports, business)) == 1


def test_invalid_hours_are_refused_field_by_field_and_nothing_is_saved(app_client, signed_in, ports, business):
    before = _tenant(ports, business)["settings"]
    reply = _post(app_client, signed_in, "hours", **_hours_form(mon="9:00-17:00", wed="25:00-17:00"))
    assert reply.status_code == 422
    error = re.search(r'id="err-voice-hours-wed">([^<]+)<', reply.text)
    assert error, reply.text
    assert 'name="hours_wed" value="09:00-17:00" aria-invalid="true" aria-describedby="err-voice-hours-wed"' \
        in reply.text.replace("\n", "")
    assert "err-voice-hours-mon" not in reply.text
    assert _tenant(ports, business)["settings"] == before


@pytest.mark.parametrize("section,form,field", [
    ("routing", {"team": "dana, Dana, not-a-number", "blocked_numbers": "", "vip_numbers": ""}, "voice-team"),
    ("routing", {"team": "", "blocked_numbers": "+1 555", "vip_numbers": ""}, "voice-blocked_numbers"),
    ("ivr", {"ivr_enabled": "yes", "ivr_1_label": "Sales", "ivr_1_action": "teleport", "ivr_timeout_seconds": "6",
             "ivr_max_attempts": "2"}, "voice-ivr-options-1"),
    ("ivr", {"ivr_timeout_seconds": "99", "ivr_max_attempts": "2"}, "voice-ivr-timeout_seconds"),
    ("slots", {"slots_mon": "17:00-09:00", "slot_minutes": "60", "buffer_minutes": "0", "lead_minutes": "0",
               "horizon_days": "14", "appointment_label": "visit"}, "scheduling-windows-mon"),
    ("privacy", {"retention": "45"}, "recording_retention_days"),
    ("notifications", {"notify_call_summary_custom": "yes", "notify_call_summary": "u_someone_else"},
     "notification_recipients-call_summary"),
])
def test_each_section_refuses_bad_input_with_a_field_error(app_client, signed_in, ports, business, section, form, field):
    before = _tenant(ports, business)["settings"]
    reply = _post(app_client, signed_in, section, **form)
    assert reply.status_code == 422
    assert f'id="err-{field}"' in reply.text, reply.text
    assert _tenant(ports, business)["settings"] == before


def test_routing_ivr_slots_notifications_and_privacy_are_saved(app_client, signed_in, ports, business):
    assert _post(app_client, signed_in, "routing", team="dana, Dana Rivera, (303) 555-0101",
                 default_forward_to="dana", blocked_numbers="303-555-0199\n", vip_numbers="+1 720 555 0142",
                 vip_forward_to="dana", block_anonymous="yes").status_code == 200
    assert _post(app_client, signed_in, "ivr", ivr_enabled="yes", ivr_1_label="Appointments", ivr_1_action="ai",
                 ivr_2_label="Billing", ivr_2_action="forward", ivr_2_forward_to="dana", ivr_2_keywords="bill, invoice",
                 ivr_timeout_seconds="6", ivr_max_attempts="2").status_code == 200
    assert _post(app_client, signed_in, "slots", slots_enabled="yes", slots_tue="8-12, 13:00-16:00",
                 slot_minutes="30", buffer_minutes="10", lead_minutes="60", horizon_days="21",
                 appointment_label="cleaning").status_code == 200
    assert _post(app_client, signed_in, "notifications", notify_new_voicemail_custom="yes",
                 notify_new_voicemail=business.owner_id).status_code == 200
    assert _post(app_client, signed_in, "privacy", retention="forever", marketing_email_opt_in="yes",
                 service_improvement_opt_out="yes").status_code == 200
    settings = _tenant(ports, business)["settings"]
    voice = settings["voice"]
    assert voice["team"] == [{"id": "dana", "name": "Dana Rivera", "number": "+13035550101"}]
    assert (voice["blocked_numbers"], voice["vip_numbers"], voice["block_anonymous"]) == (
        ["+13035550199"], ["+17205550142"], True)
    assert voice["ivr"]["options"]["2"] == {"label": "Billing", "action": "forward", "forward_to": ["dana"],
                                            "keywords": ["bill", "invoice"]}
    assert settings["scheduling"]["windows"] == {"tue": [{"start": "08:00", "end": "12:00"},
                                                         {"start": "13:00", "end": "16:00"}]}
    assert settings["notification_recipients"] == {"new_voicemail": [business.owner_id]}
    assert (settings["recording_retention_days"], settings["transcript_retention_days"]) == (None, None)
    assert (settings["marketing_email_opt_in"], settings["service_improvement_opt_out"]) == (True, True)
    page = app_client.get("/settings").text
    assert '<option value="forever" selected>' in page and "Dana Rivera, +13035550101" in page


def test_the_profile_section_changes_name_and_time_zone(app_client, signed_in, ports, business):
    assert _post(app_client, signed_in, "profile", name="Sunrise Dental Care",
                 time_zone="America/Phoenix").status_code == 200
    doc = _tenant(ports, business)
    assert (doc["name"], doc["time_zone"]) == ("Sunrise Dental Care", "America/Phoenix")
    assert _post(app_client, signed_in, "profile", name="", time_zone="Mars/Olympus").status_code == 422


def _preview(app_client, csrf, number="+1 602 555 0111", weekday="sat", time="21:00"):
    return app_client.post("/settings/preview", data={"csrf_token": csrf, "number": number, "weekday": weekday,
                                                      "time": time})


def test_the_route_preview_follows_the_hours(app_client, signed_in):
    reply = _preview(app_client, signed_in)
    assert reply.status_code == 200
    assert "The AI receptionist answers" in reply.text and "closed on Saturday" in reply.text
    assert "6025550111" not in reply.headers.get("Location", "")
    _post(app_client, signed_in, "hours", **(_hours_form(sat="9:00-23:00") | {"open_action": "voicemail"}))
    reply = _preview(app_client, signed_in)
    assert "The caller is asked to leave a voicemail" in reply.text and "business_hours" in reply.text
    _post(app_client, signed_in, "routing", team="", blocked_numbers="+1 602 555 0111", vip_numbers="")
    assert "The call is rejected" in _preview(app_client, signed_in).text


@pytest.mark.parametrize("form,field", [({"number": "12"}, "preview-number"), ({"time": "late"}, "preview-time"),
                                        ({"weekday": "someday"}, "preview-weekday")])
def test_a_bad_preview_question_is_a_422_with_the_field(app_client, signed_in, form, field):
    reply = _preview(app_client, signed_in, **form)
    assert reply.status_code == 422 and f'id="err-{field}"' in reply.text


@pytest.mark.parametrize("role", [Role.viewer, Role.staff])
def test_viewers_and_staff_cannot_open_or_change_the_settings(app_client, ports, business, role):
    add_member(ports, business, "member@sunrise.example", role)
    assert sign_in(app_client, "member@sunrise.example").status_code == 302
    csrf = csrf_of(app_client.get("/").text)
    assert app_client.get("/settings").status_code == 403
    assert _post(app_client, csrf, "greeting", greeting="Hacked", recording_notice="x").status_code == 403
    assert _preview(app_client, csrf).status_code == 403
    assert 'href="/settings"' not in app_client.get("/").text
