"""The settings page: one form per section, each posting to its own route and changing its
settings through :mod:`shared.tenants.business_settings` (validated, audited, live on the next
call) or the profile through :mod:`shared.tenants.profile`. The route preview answers from
:func:`shared.voice.preview.preview` (the rules engine ``voice_answer`` runs); the number is a
form field, never part of a URL.

Form formats (what a person types): hours per day as ``9:00-17:00, 18:00-20:00`` (empty:
closed); dates and numbers one per line; team members one per line as ``id, name, number``;
forward targets as team member ids or numbers separated by commas.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from flask import Blueprint, render_template, request

from shared.accounts import team
from shared.accounts.errors import AccountError, InvalidInput
from shared.tenants import business_settings, profile
from shared.tenants.business_settings import NOTIFICATION_TEMPLATES, RETENTION_CHOICES, SettingsInvalid
from shared.voice.preview import describe_moment, preview
from shared.voice.settings import DAY_NAMES, WEEKDAYS
from shared.web import auth

blueprint = Blueprint("settings", __name__, url_prefix="/settings")

ACTIONS = {"ai": "AI receptionist answers", "forward": "Ring the team", "voicemail": "Take a voicemail"}
DIGITS = "1234567890"
_CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")


def _clock(text: str) -> str:
    match = _CLOCK.match(text)
    if not match:
        return text.strip()  # the model says what is wrong with it
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def _ranges(text: str) -> list[dict[str, str]]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, _, end = part.partition("-")
        out.append({"start": _clock(start), "end": _clock(end)})
    return out


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _team(text: str) -> list[dict[str, str]]:
    members = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split(",")]
        parts += [""] * (3 - len(parts))
        members.append({"id": parts[0], "name": parts[1], "number": ",".join(parts[2:]).strip(", ")})
    return members


def _int(name: str) -> int | str:
    value = request.form.get(name, "").strip()
    return int(value) if value.isdigit() else value


def _check(name: str) -> bool:
    return request.form.get(name) == "yes"


def _section_changes(section: str) -> dict[str, Any]:
    form = request.form
    if section == "greeting":
        return {"voice.greeting": form.get("greeting", "").strip(),
                "recording_notice": form.get("recording_notice", "").strip()}
    if section == "hours":
        return {"voice.hours": {day: _ranges(form.get(f"hours_{day}", "")) for day in WEEKDAYS
                                if _ranges(form.get(f"hours_{day}", ""))},
                "voice.holidays": _lines(form.get("holidays", "")),
                "voice.open_action": form.get("open_action", ""),
                "voice.after_hours_action": form.get("after_hours_action", "")}
    if section == "routing":
        return {"voice.team": _team(form.get("team", "")),
                "voice.default_forward_to": _list(form.get("default_forward_to", "")),
                "voice.after_hours_forward_to": _list(form.get("after_hours_forward_to", "")),
                "voice.blocked_numbers": _lines(form.get("blocked_numbers", "")),
                "voice.block_anonymous": _check("block_anonymous"),
                "voice.vip_numbers": _lines(form.get("vip_numbers", "")),
                "voice.vip_forward_to": _list(form.get("vip_forward_to", ""))}
    if section == "ivr":
        options = {}
        for digit in DIGITS:
            label = form.get(f"ivr_{digit}_label", "").strip()
            if label:
                options[digit] = {"label": label, "action": form.get(f"ivr_{digit}_action", ""),
                                  "forward_to": _list(form.get(f"ivr_{digit}_forward_to", "")),
                                  "keywords": _list(form.get(f"ivr_{digit}_keywords", ""))}
        return {"voice.ivr": {"enabled": _check("ivr_enabled"), "prompt": form.get("ivr_prompt", "").strip(),
                              "options": options, "timeout_seconds": _int("ivr_timeout_seconds"),
                              "max_attempts": _int("ivr_max_attempts")}}
    if section == "slots":
        return {"scheduling": {"enabled": _check("slots_enabled"),
                               "windows": {day: _ranges(form.get(f"slots_{day}", "")) for day in WEEKDAYS
                                           if _ranges(form.get(f"slots_{day}", ""))},
                               "slot_minutes": _int("slot_minutes"), "buffer_minutes": _int("buffer_minutes"),
                               "lead_minutes": _int("lead_minutes"), "horizon_days": _int("horizon_days"),
                               "closed_dates": _lines(form.get("closed_dates", "")),
                               "appointment_label": form.get("appointment_label", "").strip()}}
    if section == "notifications":
        return {"notification_recipients": {template: form.getlist(f"notify_{template}")
                                            for template in NOTIFICATION_TEMPLATES
                                            if form.get(f"notify_{template}_custom") == "yes"}}
    if section == "privacy":
        raw = form.get("retention", "")
        days: int | str | None = None if raw == "forever" else (int(raw) if raw.isdigit() else raw)
        return {"recording_retention_days": days, "transcript_retention_days": days,
                "marketing_email_opt_in": _check("marketing_email_opt_in"),
                "service_improvement_opt_out": _check("service_improvement_opt_out")}
    raise InvalidInput("unknown settings section")


def _page(status: int = 200, *, errors: dict[str, str] | None = None, result: dict[str, Any] | None = None,
          **extra: Any):
    principal = auth.principal()
    tenant = profile.get(auth.ports().store(), principal.tenant_id)
    members = [m for m in team.members(auth.ports(), principal.tenant_id) if m.status != "disabled"]
    return render_template("settings.html", tenant=tenant, voice=tenant.settings.voice,
                           scheduling=tenant.settings.scheduling, weekdays=WEEKDAYS, day_names=DAY_NAMES,
                           actions=ACTIONS, digits=DIGITS, members=members, templates=NOTIFICATION_TEMPLATES,
                           retention_choices=RETENTION_CHOICES, errors=errors or {}, result=result,
                           zones=_zones(), **extra), status


@functools.cache
def _zones() -> tuple[str, ...]:
    """The US zones the profile offers (scanning tzdata costs ~12 ms: once per instance)."""
    import zoneinfo

    return tuple(sorted(z for z in zoneinfo.available_timezones()
                        if z.startswith(("America/", "Pacific/Honolulu", "US/"))))


@blueprint.get("")
@auth.requires("settings.read")
def index():
    return _page()


@blueprint.post("/profile")
@auth.requires("business.update")
def save_profile():
    info, principal = auth.client(), auth.principal()
    changes = {"name": request.form.get("name", "").strip(), "time_zone": request.form.get("time_zone", "")}
    try:
        profile.update(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id,
                       actor_user_id=principal.user_id, changes=changes, ip=info.ip, user_agent=info.user_agent)
    except InvalidInput as exc:
        return _page(422, errors={exc.field or "profile": exc.message.partition(": ")[2] or exc.message},
                     error="The business profile was not saved: check the marked field.")
    return _page(notice="Business profile saved.")


@blueprint.post("/<section>")
@auth.requires("routing.update")
def save(section: str):
    info, principal = auth.client(), auth.principal()
    changes = _section_changes(section)
    try:
        business_settings.update(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id,
                                 actor_user_id=principal.user_id, changes=changes, ip=info.ip,
                                 user_agent=info.user_agent)
    except SettingsInvalid as exc:
        return _page(422, errors=exc.errors, error="Nothing was saved: check the marked fields.")
    return _page(notice="Saved. The next call follows the new settings.")


@blueprint.post("/preview")
@auth.requires("settings.read")
def route_preview():
    principal = auth.principal()
    tenant = profile.get(auth.ports().store(), principal.tenant_id)
    weekday, at = request.form.get("weekday", ""), request.form.get("time", "")
    try:
        moment = dt.time.fromisoformat(_clock(at))
    except ValueError:
        return _page(422, errors={"preview.time": "enter a time like 21:00"}, error="Enter a time like 21:00.")
    try:
        answer = preview(tenant, number=request.form.get("number", ""), weekday=weekday, at=moment, now=auth.now())
    except AccountError as exc:
        return _page(422, errors={f"preview.{exc.field or 'weekday'}": exc.message}, error=exc.message)
    result = {"when": describe_moment(answer.at), "summary": answer.summary(tenant), "reason": answer.route.reason,
              "detail": answer.route.detail, "weekday": weekday, "time": moment.strftime("%H:%M")}
    return _page(result=result)
