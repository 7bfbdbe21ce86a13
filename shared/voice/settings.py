"""What a business controls about how its calls are answered (``tenant.settings.voice``).

A pure model (no I/O). Decisions written down where the issue is silent:

* **Hours** are wall-clock times in the tenant's time zone, per weekday, as a list of ranges.
  A range whose end is earlier than its start runs overnight into the next day
  (``fri 20:00-02:00`` covers Saturday 01:00); a range whose end equals its start is a full 24
  hours. Comparing wall-clock times of the actual instant makes DST days come out right: on the
  spring-forward day 02:30 never happens, on the fall-back day 01:30 happens twice and is open
  both times if 01:30 is inside a range.
* **Holidays** are local dates. A holiday closes the ranges that *start* on it; the tail of an
  overnight range that started the day before still counts (the shift began on a working day).
* **Forward targets** (``forward_to`` lists) name team members by ``id`` or give E.164 numbers;
  several targets ring in parallel and the first to answer takes the call.
* **Numbers** (blocked, VIP, team) are stored in E.164. Blocked and VIP lists accept any valid
  number (spam comes from abroad too); team numbers must be valid numbers as well.
* Defaults: the AI agent answers during and outside business hours (the product's promise is
  that every call is answered); no IVR menu; Monday to Friday 9:00 to 17:00.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PlainSerializer, field_validator, model_validator

from shared.models.base import Model

if TYPE_CHECKING:
    from shared.models.tenant import Tenant

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}
Action = Literal["ai", "forward", "voicemail"]
# Stored as strings: documents hold JSON types (and datetimes), never bare times or dates.
WallTime = Annotated[dt.time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]
LocalDate = Annotated[dt.date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]

DEFAULT_RECORDING_NOTICE = "This call may be recorded."
DEFAULT_VOICEMAIL_PROMPT = ("Sorry we can't take your call right now. Please leave your name, number and a short "
                            "message after the tone, and we'll get back to you.")


def normalize_any(raw: str | None) -> str | None:
    """Any valid phone number (US by default when no country code) as E.164, else None.

    Callers may be abroad, anonymous (Twilio sends ``anonymous``, ``+266696687`` ...) or
    restricted: those are None, which the rules treat as "no caller id". Cached: parsing costs
    ~40 us and the same numbers come back all day."""
    if not raw or not isinstance(raw, str) or len(raw) > 40:
        return None
    return _normalize(raw)


@functools.lru_cache(maxsize=8192)
def _normalize(raw: str) -> str | None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _number(value: str) -> str:
    number = normalize_any(value)
    if number is None:
        raise ValueError("not a valid phone number")
    return number


class TimeRange(Model):
    start: WallTime
    end: WallTime

    @property
    def overnight(self) -> bool:
        return self.end <= self.start  # equal: 24 hours

    def describe(self) -> str:
        if self.end == self.start:
            return "24 hours"
        return f"{_clock(self.start)} to {_clock(self.end)}"


def _clock(t: dt.time) -> str:
    hour = t.hour % 12 or 12
    suffix = "AM" if t.hour < 12 else "PM"
    return f"{hour}:{t.minute:02d} {suffix}"


def _default_hours() -> dict[str, list[TimeRange]]:
    nine_to_five = [TimeRange(start=dt.time(9), end=dt.time(17))]
    return {day: list(nine_to_five) for day in ("mon", "tue", "wed", "thu", "fri")}


class TeamMember(Model):
    id: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    name: str = Field(min_length=1, max_length=100)
    number: str

    @field_validator("number")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _number(value)


class IvrOption(Model):
    label: str = Field(min_length=1, max_length=100)
    action: Action
    forward_to: list[str] = Field(default_factory=list)  # team member ids or E.164 numbers
    keywords: list[str] = Field(default_factory=list)  # spoken words that pick this option

    @field_validator("forward_to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("keywords")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [k.strip().lower() for k in value if k.strip()]


class IvrMenu(Model):
    enabled: bool = False
    prompt: str = ""  # empty: built from the options ("For sales, press 1. ...")
    options: dict[str, IvrOption] = Field(default_factory=dict)  # digit -> option
    timeout_seconds: int = Field(default=6, ge=2, le=30)
    max_attempts: int = Field(default=2, ge=1, le=5)  # the menu is played at most this often

    @field_validator("options")
    @classmethod
    def _digits(cls, value: dict[str, IvrOption]) -> dict[str, IvrOption]:
        for digit in value:
            if digit not in "0123456789" or len(digit) != 1:
                raise ValueError("menu options are single digits 0-9")
        return dict(sorted(value.items()))

    def spoken_prompt(self) -> str:
        if self.prompt:
            return self.prompt
        return " ".join(f"For {o.label}, press {d}." for d, o in self.options.items())

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.options)


class VoiceSettings(Model):
    """How calls to the business are answered. See the module docstring for the rules."""

    ai_enabled: bool = True
    agent_id: str | None = None  # a Retell agent of this business; default: settings.retell_agent_id
    greeting: str = ""  # empty: "Thanks for calling <business name>."
    hours: dict[Weekday, list[TimeRange]] = Field(default_factory=_default_hours)
    holidays: list[LocalDate] = Field(default_factory=list)
    open_action: Action = "ai"  # during business hours, when the IVR menu is off
    after_hours_action: Action = "ai"
    after_hours_forward_to: list[str] = Field(default_factory=list)
    team: list[TeamMember] = Field(default_factory=list)
    default_forward_to: list[str] = Field(default_factory=list)  # empty: the whole team
    blocked_numbers: list[str] = Field(default_factory=list)
    block_anonymous: bool = False
    vip_numbers: list[str] = Field(default_factory=list)
    vip_forward_to: list[str] = Field(default_factory=list)  # empty: default_forward_to
    ivr: IvrMenu = Field(default_factory=IvrMenu)
    voicemail_prompt: str = ""
    voicemail_max_seconds: int = Field(default=120, ge=10, le=600)
    forward_timeout_seconds: int = Field(default=20, ge=5, le=60)
    record_forwarded_calls: bool = True

    @field_validator("after_hours_forward_to", "default_forward_to", "vip_forward_to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("blocked_numbers", "vip_numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_number(v) for v in value))

    @model_validator(mode="after")
    def _targets_exist(self) -> "VoiceSettings":
        ids = {m.id for m in self.team}
        lists = [self.after_hours_forward_to, self.default_forward_to, self.vip_forward_to,
                 *[o.forward_to for o in self.ivr.options.values()]]
        for targets in lists:
            for target in targets:
                if target not in ids and normalize_any(target) is None:
                    raise ValueError(f"forward target {target!r} is neither a team member nor a phone number")
        return self

    # --- reading the rules -------------------------------------------------------------------
    def resolve(self, targets: list[str]) -> tuple[str, ...]:
        """Forward targets as E.164 numbers (team member ids looked up), de-duplicated."""
        members = {m.id: m.number for m in self.team}
        numbers = [members.get(t) or normalize_any(t) for t in targets]
        return tuple(dict.fromkeys(n for n in numbers if n))

    def default_targets(self) -> tuple[str, ...]:
        return self.resolve(self.default_forward_to) if self.default_forward_to else self.resolve(
            [m.id for m in self.team])

    def member_name(self, number: str) -> str | None:
        return next((m.name for m in self.team if m.number == number), None)

    def describe_hours(self) -> str:
        """For people and the AI agent: "Monday to Friday 9:00 AM to 5:00 PM; Saturday closed..."."""
        groups: list[tuple[list[str], str]] = []
        for day in WEEKDAYS:
            ranges = self.hours.get(day) or []
            text = " and ".join(r.describe() for r in ranges) if ranges else "closed"
            if groups and groups[-1][1] == text:
                groups[-1][0].append(day)
            else:
                groups.append(([day], text))
        parts = []
        for days, text in groups:
            if len(days) == 1:
                label = DAY_NAMES[days[0]]
            elif len(days) == 2:
                label = f"{DAY_NAMES[days[0]]} and {DAY_NAMES[days[1]]}"
            else:
                label = f"{DAY_NAMES[days[0]]} to {DAY_NAMES[days[-1]]}"
            parts.append(f"{label} {text}")
        return "; ".join(parts)

    def open_at(self, local: dt.datetime) -> tuple[bool, str]:
        """Is the business open at this local (tenant zone, aware) time? Returns (open, why)."""
        today = local.date()
        now = local.time().replace(tzinfo=None)
        day = WEEKDAYS[local.weekday()]
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        holidays = set(self.holidays)
        # the tail of an overnight range that started yesterday
        if (today - dt.timedelta(days=1)) not in holidays:
            for r in self.hours.get(yesterday) or []:
                if r.overnight and now < r.end:
                    return True, f"open ({DAY_NAMES[yesterday]} {r.describe()})"
        if today in holidays:
            return False, f"closed for a holiday ({today.isoformat()})"
        for r in self.hours.get(day) or []:
            if r.overnight:
                if now >= r.start:
                    return True, f"open ({DAY_NAMES[day]} {r.describe()})"
            elif r.start <= now < r.end:
                return True, f"open ({DAY_NAMES[day]} {r.describe()})"
        if not self.hours.get(day):
            return False, f"closed on {DAY_NAMES[day]}"
        return False, f"outside business hours ({DAY_NAMES[day]} {_clock(now)})"


# --- what the caller hears from the business's settings ----------------------------------------

def greeting(tenant: "Tenant") -> str:
    """The one greeting (``voice.greeting``; a legacy ``settings.greeting`` is read into it), for
    every path that greets: the IVR menu and the AI agent's ``{{greeting}}``. The voicemail route
    speaks the business's own ``voicemail_prompt`` instead."""
    return tenant.settings.voice.greeting or f"Thanks for calling {tenant.name}."


def notice_text(tenant: "Tenant") -> str:
    return tenant.settings.recording_notice or DEFAULT_RECORDING_NOTICE
