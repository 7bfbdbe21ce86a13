"""The route preview: "if +1 602 555 0111 calls on Saturday at 9 p.m., this is what happens".

Answered by :func:`shared.voice.routing.decide`, the rules ``voice_answer`` applies, on the
tenant's current settings. The moment is the next such weekday and wall-clock time in the
business's time zone from ``now`` (today counts when that time is still ahead), so holidays
coming up are taken into account. A wall-clock time that does not exist on that day (the
spring-forward hour) is read as the instant after the gap, as ``zoneinfo`` resolves it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.accounts.errors import InvalidInput
from shared.models.tenant import Tenant
from shared.voice.routing import Caller, Route, decide
from shared.voice.settings import DAY_NAMES, WEEKDAYS, normalize_any

ACTIONS = {
    "ai": "The AI receptionist answers",
    "ivr": "The caller hears the menu",
    "forward": "The call rings",
    "voicemail": "The caller is asked to leave a voicemail",
    "rejected": "The call is rejected (busy signal)",
    "not_in_service": "The caller hears that the number is not in service",
}


@dataclass(frozen=True)
class Preview:
    route: Route
    at: dt.datetime  # in the tenant's zone
    caller: str | None  # E.164, None: no caller id

    def summary(self, tenant: Tenant) -> str:
        text = ACTIONS[self.route.action]
        if self.route.action == "forward":
            names = [tenant.settings.voice.member_name(n) or n for n in self.route.forward_to]
            text += " " + ", ".join(names)
        if self.route.record:
            text += "; the recording notice plays and the call is recorded"
        return text + "."


def moment(now: dt.datetime, zone: dt.tzinfo, weekday: str, at: dt.time) -> dt.datetime:
    if weekday not in WEEKDAYS:
        raise InvalidInput("choose a day of the week")
    local_now = now.astimezone(zone)
    days = (WEEKDAYS.index(weekday) - local_now.weekday()) % 7
    day = local_now.date() + dt.timedelta(days=days)
    candidate = dt.datetime.combine(day, at, tzinfo=zone)
    if candidate < local_now:
        candidate = dt.datetime.combine(day + dt.timedelta(days=7), at, tzinfo=zone)
    return candidate


def preview(tenant: Tenant, *, number: str, weekday: str, at: dt.time, now: dt.datetime) -> Preview:
    """What happens when ``number`` (empty: no caller id) calls at the next ``weekday`` ``at``."""
    caller = normalize_any(number) if number.strip() else None
    if number.strip() and caller is None:
        raise InvalidInput("not a valid phone number", field="number")
    when = moment(now, tenant.zone, weekday, at)
    return Preview(decide(tenant, None, Caller(caller), when), when, caller)


def describe_moment(when: dt.datetime) -> str:
    hour = when.hour % 12 or 12
    return f"{DAY_NAMES[WEEKDAYS[when.weekday()]]} {when.date().isoformat()} at {hour}:{when.minute:02d} " \
           f"{'AM' if when.hour < 12 else 'PM'}"
