"""A change made through the settings service is what the next call follows: voice_answer
parses the tenant document it reads on every call (no cached parse can serve the old one)."""

from __future__ import annotations

import datetime as dt

from shared.tenants import business_settings
from tests.functions.voice.support import MENU, TENANT, call_doc, call_params, new_call_sid, post, twiml


def _answer(client, settings):
    sid = new_call_sid()
    return sid, twiml(post(client, settings, "voice_answer", call_params(sid)))


def _change(ports, **changes):
    return business_settings.update(ports.store(), ports.clock().now(), tenant_id=TENANT, actor_user_id="u_test",
                                    changes=changes)


def test_greeting_and_hours_changed_through_the_service_apply_to_the_next_call(client, settings, business, ports,
                                                                                  retell_sandbox):
    _change(ports, **{"voice.ivr": MENU})
    _, root = _answer(client, settings)  # warms the per-instance parse of the tenant document
    assert root.find("Gather/Say").text == "Thanks for calling Sunrise Plumbing."

    _change(ports, **{"voice.greeting": "Sunrise Plumbing, now open Saturdays."})
    _, root = _answer(client, settings)
    assert root.find("Gather/Say").text == "Sunrise Plumbing, now open Saturdays."

    # Monday 10:00 in Denver: closing Mondays sends the very next call to the after-hours route
    _change(ports, **{"voice.hours": {"tue": [{"start": "09:00", "end": "17:00"}]}})
    sid, root = _answer(client, settings)
    assert (call_doc(ports, sid)["route"], call_doc(ports, sid)["route_reason"]) == ("voicemail", "after_hours")


def test_recordings_kept_forever_carry_no_expiry(client, settings, business, ports, retell_sandbox):
    _change(ports, recording_retention_days=None, transcript_retention_days=None)
    sid, _ = _answer(client, settings)
    doc = call_doc(ports, sid)
    assert doc["created_at"] and doc.get("expire_at") is None

    _change(ports, recording_retention_days=30, transcript_retention_days=30)
    sid, _ = _answer(client, settings)
    doc = call_doc(ports, sid)
    assert doc["expire_at"] - doc["created_at"] == dt.timedelta(days=30)
