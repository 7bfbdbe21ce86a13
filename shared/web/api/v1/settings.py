"""``/settings``: the settings page's twin (the profile is ``/business``). The whole settings
document (greeting, recording notice, hours, holidays, routing, IVR menu, appointment slots,
notification recipients, retention, marketing email, service improvement), a partial change
through :mod:`shared.tenants.business_settings` (validated as the page is, field by field,
audited, live on the next call), and the route preview (:mod:`shared.voice.preview`: the rules
``voice_answer`` runs), whose caller number travels in the body, never in the URL.

PATCH semantics: only the fields sent change. Lists and maps (``voice.hours``, ``voice.team``,
``voice.ivr.options``, ``scheduling.windows`` ...) are replaced whole, as the page's sections
replace them: a day left out of ``hours`` is closed. The two objects ``voice.ivr`` and
``scheduling`` change field by field. ``null`` is meaningful for the retention days only (kept
until deleted); elsewhere it is refused. Every error names the field path
(``voice.hours.mon.0.start``) in ``error.fields``. The actions follow the page: reading needs
``settings.read``, changing ``routing.update``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.models.tenant import Tenant
from shared.tenants import business_settings, profile
from shared.voice.preview import describe_moment, preview
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Action = Literal["ai", "forward", "voicemail"]
Digit = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"],
                             description="a wall-clock time in the business's time zone, HH:MM")]
Target = Annotated[str, Field(max_length=40, description="a team member id or a phone number")]
Number = Annotated[str, Field(max_length=40, description="a phone number (E.164 in answers)")]
Text = Annotated[str, Field(max_length=100)]
Notification = Literal[tuple(business_settings.NOTIFICATION_TEMPLATES)]  # type: ignore[valid-type]
MAX_ITEMS = 200


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the document ---------------------------------------------------------------------------------

class TimeRange(_Closed):
    """An end before the start runs past midnight (hours); an end equal to the start is 24 hours."""

    start: Clock
    end: Clock


class TeamMember(_Closed):
    id: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    name: str = Field(min_length=1, max_length=100)
    number: Number


class IvrOption(_Closed):
    label: str = Field(min_length=1, max_length=100)
    action: Action
    forward_to: list[Target] = Field(default_factory=list, max_length=20)
    keywords: list[Text] = Field(default_factory=list, max_length=20, description="spoken words that pick it")


class TeamMemberOut(BaseModel):
    id: str
    name: str
    number: str = Field(description="E.164")


class IvrOptionOut(BaseModel):
    label: str
    action: Action
    forward_to: list[str] = Field(description="team member ids or numbers")
    keywords: list[str]


class IvrOut(BaseModel):
    enabled: bool
    prompt: str
    options: dict[Digit, IvrOptionOut]
    timeout_seconds: int
    max_attempts: int


class VoiceOut(BaseModel):
    greeting: str = Field(description='empty: "Thanks for calling <business name>."')
    hours: dict[Weekday, list[TimeRange]] = Field(description="a day not listed is closed")
    holidays: list[dt.date]
    open_action: Action
    after_hours_action: Action
    after_hours_forward_to: list[str]
    team: list[TeamMemberOut]
    default_forward_to: list[str] = Field(description="empty: the whole team")
    blocked_numbers: list[str]
    block_anonymous: bool
    vip_numbers: list[str]
    vip_forward_to: list[str] = Field(description="empty: default_forward_to")
    ivr: IvrOut


class SchedulingOut(BaseModel):
    enabled: bool = Field(description="callers can book appointments")
    windows: dict[Weekday, list[TimeRange]] = Field(description="booking windows per day (never past midnight)")
    slot_minutes: int
    buffer_minutes: int
    lead_minutes: int = Field(description="notice needed")
    horizon_days: int = Field(description="days ahead that can be booked")
    closed_dates: list[dt.date]
    appointment_label: str = Field(description='what callers book: "appointment", "estimate"')


class SettingsOut(BaseModel):
    recording_notice: str
    voice: VoiceOut
    scheduling: SchedulingOut
    notification_recipients: dict[str, list[str]] = Field(
        description="notification (call_summary, new_voicemail, new_text_message) -> the member ids that get it; "
                    "one not listed goes to the owners and admins")
    recording_retention_days: int | None = Field(description="30, 90, 180 or 365; null: until deleted")
    transcript_retention_days: int | None
    marketing_email_opt_in: bool
    service_improvement_opt_out: bool = Field(description="keep this business's call data out of service "
                                                          "improvement")

    @classmethod
    def of(cls, tenant: Tenant) -> "SettingsOut":
        return cls.model_validate(tenant.settings.model_dump(mode="json"))


# --- the partial document -------------------------------------------------------------------------

class IvrPatch(_Closed):
    enabled: bool | None = None
    prompt: str | None = Field(default=None, max_length=1000, description="empty: built from the options")
    options: dict[Digit, IvrOption] | None = Field(default=None, description="replaced whole: digit -> option")
    timeout_seconds: int | None = Field(default=None, ge=2, le=30)
    max_attempts: int | None = Field(default=None, ge=1, le=5)


class VoicePatch(_Closed):
    greeting: str | None = Field(default=None, max_length=500)
    hours: dict[Weekday, list[TimeRange]] | None = Field(default=None, description="replaced whole")
    holidays: list[dt.date] | None = Field(default=None, max_length=MAX_ITEMS)
    open_action: Action | None = None
    after_hours_action: Action | None = None
    after_hours_forward_to: list[Target] | None = Field(default=None, max_length=20)
    team: list[TeamMember] | None = Field(default=None, max_length=50)
    default_forward_to: list[Target] | None = Field(default=None, max_length=20)
    blocked_numbers: list[Number] | None = Field(default=None, max_length=MAX_ITEMS)
    block_anonymous: bool | None = None
    vip_numbers: list[Number] | None = Field(default=None, max_length=MAX_ITEMS)
    vip_forward_to: list[Target] | None = Field(default=None, max_length=20)
    ivr: IvrPatch | None = Field(default=None, description="changed field by field")


class SchedulingPatch(_Closed):
    enabled: bool | None = None
    windows: dict[Weekday, list[TimeRange]] | None = Field(default=None, description="replaced whole")
    slot_minutes: int | None = Field(default=None, ge=5, le=480)
    buffer_minutes: int | None = Field(default=None, ge=0, le=240)
    lead_minutes: int | None = Field(default=None, ge=0, le=14 * 24 * 60)
    horizon_days: int | None = Field(default=None, ge=1, le=366)
    closed_dates: list[dt.date] | None = Field(default=None, max_length=MAX_ITEMS)
    appointment_label: str | None = Field(default=None, min_length=1, max_length=60)


class SettingsPatch(_Closed):
    """Only the fields sent change (see the module docstring for lists, maps and null)."""

    recording_notice: str | None = Field(default=None, max_length=500)
    voice: VoicePatch | None = None
    scheduling: SchedulingPatch | None = Field(default=None, description="changed field by field")
    notification_recipients: dict[Notification, list[Annotated[str, Field(max_length=64)]]] | None = Field(
        default=None, description="replaced whole; a notification left out goes to the owners and admins")
    recording_retention_days: int | None = Field(default=None, description="30, 90, 180 or 365; null: until "
                                                                           "deleted")
    transcript_retention_days: int | None = None
    marketing_email_opt_in: bool | None = None
    service_improvement_opt_out: bool | None = None


def changes_of(patch: SettingsPatch) -> dict[str, Any]:
    """The patch as the service's dotted paths (``voice.ivr.enabled`` -> value)."""
    sent = patch.model_dump(mode="json", exclude_unset=True)
    changes: dict[str, Any] = {}
    voice = sent.pop("voice", None) or {}
    for name, value in (voice.pop("ivr", None) or {}).items():
        changes[f"voice.ivr.{name}"] = value
    changes.update({f"voice.{name}": value for name, value in voice.items()})
    changes.update({f"scheduling.{name}": value for name, value in (sent.pop("scheduling", None) or {}).items()})
    changes.update(sent)
    return changes


@operation(blueprint, "GET", "/settings", action="settings.read",
           summary="The business's settings: greeting, hours, routing, phone menu, slots, notifications, privacy",
           response=SettingsOut)
def get_settings() -> SettingsOut:
    return SettingsOut.of(profile.get(auth.ports().store(), auth.principal().tenant_id))


@operation(blueprint, "PATCH", "/settings", action="routing.update",
           summary="Change some settings (validated field by field, audited, live on the next call)",
           response=SettingsOut, body=SettingsPatch)
def patch_settings(body: SettingsPatch) -> SettingsOut:
    info, principal = auth.client(), auth.principal()
    tenant = business_settings.update(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id,
                                      actor_user_id=principal.user_id, changes=changes_of(body), ip=info.ip,
                                      user_agent=info.user_agent)
    return SettingsOut.of(tenant)


# --- the route preview ----------------------------------------------------------------------------

class RoutePreviewIn(_Closed):
    number: str = Field(default="", max_length=40, description="the caller's number; empty: no caller id")
    weekday: Weekday
    time: Clock


class RoutePreviewOut(BaseModel):
    at: dt.datetime = Field(description="the next such moment, in the business's time zone")
    when: str = Field(description='the moment in words: "Saturday 2026-03-07 at 9:00 PM"')
    route: Literal["ai", "ivr", "forward", "voicemail", "rejected", "not_in_service"]
    reason: str = Field(description="a stable code: after_hours, blocked_caller, vip_caller ...")
    detail: str = Field(description='for people: "closed on Sunday"')
    summary: str = Field(description="what happens, in words")
    forward_to: list[str] = Field(description="the numbers that ring (E.164), for route forward")
    recorded: bool = Field(description="the recording notice plays and the call is recorded")


@operation(blueprint, "POST", "/settings/route-preview", action="settings.read",
           summary="What happens when a number calls at a weekday and time (the rules calls follow, on the "
                   "current settings)", response=RoutePreviewOut, body=RoutePreviewIn)
def route_preview(body: RoutePreviewIn) -> RoutePreviewOut:
    tenant = profile.get(auth.ports().store(), auth.principal().tenant_id)
    answer = preview(tenant, number=body.number, weekday=body.weekday, at=dt.time.fromisoformat(body.time),
                     now=auth.now())  # a number that is not one: InvalidInput, field "number"
    route = answer.route
    return RoutePreviewOut(at=answer.at, when=describe_moment(answer.at), route=route.action, reason=route.reason,
                           detail=route.detail, summary=answer.summary(tenant), forward_to=list(route.forward_to),
                           recorded=route.record)
