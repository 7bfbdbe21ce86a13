"""Open appointment slots and how to say them. Pure functions, no I/O
(tests/unit/test_scheduling_slots.py).

Slots are computed per local date in the tenant's zone by stepping through each window in
wall-clock time, so "9:00 AM" stays 9:00 AM on both sides of a DST change. At the two DST
transitions (both at night in US zones, so they only matter for late windows):

* a wall-clock start that does not exist (spring forward, 2:00-2:59) is not offered;
* an ambiguous start (fall back, 1:00-1:59 happens twice) is offered once, at its first
  occurrence;
* a slot lasts ``slot_minutes`` of real time and must end by the window's end (the later
  occurrence of an ambiguous end; for an end inside the spring-forward gap, the earlier reading,
  so a slot never runs past the window).

All instants returned are timezone-aware UTC.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from shared.scheduling.settings import WEEKDAYS, SchedulingSettings

UTC = dt.timezone.utc
# The longest booking horizon (SchedulingSettings.horizon_days <= 366) plus a day for the zone
# offsets: a start further from now than this is refused before any arithmetic is done with it.
BOOKING_REACH = dt.timedelta(days=367)

# Spoken names of the US zones; anything else falls back to the abbreviation ("EST").
_ZONE_NAMES = {
    "America/New_York": "Eastern Time", "America/Detroit": "Eastern Time",
    "America/Indiana/Indianapolis": "Eastern Time", "America/Kentucky/Louisville": "Eastern Time",
    "US/Eastern": "Eastern Time", "America/Chicago": "Central Time", "America/Indiana/Knox": "Central Time",
    "America/Menominee": "Central Time", "US/Central": "Central Time", "America/Denver": "Mountain Time",
    "America/Boise": "Mountain Time", "US/Mountain": "Mountain Time", "America/Phoenix": "Arizona Time",
    "US/Arizona": "Arizona Time", "America/Los_Angeles": "Pacific Time", "US/Pacific": "Pacific Time",
    "America/Anchorage": "Alaska Time", "America/Juneau": "Alaska Time", "US/Alaska": "Alaska Time",
    "Pacific/Honolulu": "Hawaii Time", "US/Hawaii": "Hawaii Time", "America/Puerto_Rico": "Atlantic Time",
}


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime  # aware, UTC
    end: dt.datetime

    @property
    def key(self) -> str:
        """The slot-lock id: the start in UTC to the minute (``2026-03-05T21:00Z``)."""
        return slot_key(self.start)

    def overlaps(self, start: dt.datetime, end: dt.datetime, buffer: dt.timedelta = dt.timedelta(0)) -> bool:
        return start - buffer < self.end and end + buffer > self.start


def slot_key(start: dt.datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _exists(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """False for a wall-clock time inside a spring-forward gap."""
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def _instant(naive: dt.datetime, zone: zoneinfo.ZoneInfo, fold: int) -> dt.datetime:
    return naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def day_slots(settings: SchedulingSettings, zone: zoneinfo.ZoneInfo, day: dt.date) -> list[Slot]:
    """Every slot the weekly windows give on one local date (before lead time, closed dates and
    bookings are applied)."""
    slots: list[Slot] = []
    for window in settings.windows.get(WEEKDAYS[day.weekday()]) or []:
        window_end = dt.datetime.combine(day, window.end)
        # fold=1: the later reading of an ambiguous end, the earlier one of a non-existent end.
        end_limit = _instant(window_end, zone, fold=1)
        t = dt.datetime.combine(day, window.start)
        while t + settings.slot <= window_end:
            if _exists(t, zone):
                start = _instant(t, zone, fold=0)
                end = start + settings.slot
                if end <= end_limit:
                    slots.append(Slot(start, end))
            t += settings.step
    return slots


def local_today(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


def open_slots(settings: SchedulingSettings, zone: zoneinfo.ZoneInfo, now: dt.datetime, *,
               booked: Iterable[tuple[dt.datetime, dt.datetime]] = (), closed: Iterable[dt.date] = (),
               days: int | None = None, on: dt.date | None = None) -> list[Slot]:
    """Open slots, earliest first: from today (local) for ``days`` days (at most the horizon),
    or only on the local date ``on``; minus closed dates, slots inside the lead time and slots
    overlapping a booked ``(start, end)`` widened by the buffer."""
    return list(iter_open_slots(settings, zone, now, booked=booked, closed=closed, days=days, on=on))


def iter_open_slots(settings: SchedulingSettings, zone: zoneinfo.ZoneInfo, now: dt.datetime, *,
                    booked: Iterable[tuple[dt.datetime, dt.datetime]] = (), closed: Iterable[dt.date] = (),
                    days: int | None = None, on: dt.date | None = None) -> Iterator[Slot]:
    """:func:`open_slots` lazily, one day at a time: a caller that needs the first few slots
    does not compute the whole horizon."""
    if not settings.enabled:
        return
    today = local_today(now, zone)
    if on is not None:
        dates: Iterable[dt.date] = [on] if in_horizon(settings, today, on) else []
    else:
        span = settings.horizon_days if days is None else max(0, min(days, settings.horizon_days))
        dates = (today + dt.timedelta(days=i) for i in range(span))
    closed_set = set(closed)
    busy = _Busy(booked, settings.buffer)
    earliest = now + settings.lead
    for day in dates:
        if day in closed_set:
            continue
        for slot in day_slots(settings, zone, day):
            if slot.start >= earliest and not busy.overlaps(slot):
                yield slot


class _Busy:
    """Booked intervals, answering "does this slot overlap one (buffer included)?" in
    O(log n): sorted by start, with the running maximum of the ends."""

    def __init__(self, booked: Iterable[tuple[dt.datetime, dt.datetime]], buffer: dt.timedelta) -> None:
        ordered = sorted(booked)
        self.starts = [s for s, _e in ordered]
        self.max_end: list[dt.datetime] = []
        for _s, e in ordered:
            self.max_end.append(max(e, self.max_end[-1]) if self.max_end else e)
        self.buffer = buffer

    def overlaps(self, slot: Slot) -> bool:
        # intervals starting before slot.end + buffer; one of them overlaps iff the latest end
        # among them reaches past slot.start - buffer
        k = bisect.bisect_left(self.starts, slot.end + self.buffer)
        return k > 0 and self.max_end[k - 1] + self.buffer > slot.start


def in_horizon(settings: SchedulingSettings, today: dt.date, day: dt.date) -> bool:
    """True for the local dates the business books: today and the ``horizon_days - 1`` after."""
    return today <= day <= today + dt.timedelta(days=settings.horizon_days - 1)


def find_offered(settings: SchedulingSettings, zone: zoneinfo.ZoneInfo, now: dt.datetime, start: dt.datetime, *,
                 booked: Iterable[tuple[dt.datetime, dt.datetime]] = (), closed: Iterable[dt.date] = ()) -> Slot | None:
    """The open slot starting exactly at ``start`` (aware), or None when that time is not one
    the business offers right now (off the grid, closed, too soon, too far, or taken)."""
    start = start.astimezone(UTC)
    for slot in open_slots(settings, zone, now, booked=booked, closed=closed, on=start.astimezone(zone).date()):
        if slot.start == start:
            return slot
    return None


def parse_start(value: object, zone: zoneinfo.ZoneInfo, *, now: dt.datetime) -> dt.datetime:
    """An appointment start as the agent sends it: ISO 8601 with an offset or ``Z``
    (``2026-03-05T14:00:00-07:00``), or without one, read as the business's local time (so is
    one carrying the zone's other DST offset, see :func:`_dst_slip`). Raises ValueError with a
    sentence the agent can say, also for a date more than :data:`BOOKING_REACH` from ``now``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("I need the start time of the appointment, as given by check_availability.")
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("I could not read that start time; use one of the times check_availability gave.") from None
    # Before any arithmetic: a date no business books (9999-12-31 overflows the conversion).
    if abs(parsed.replace(tzinfo=None) - now.astimezone(UTC).replace(tzinfo=None)) > BOOKING_REACH:
        raise ValueError("That date is more than a year from today; use one of the times check_availability gave.")
    if parsed.tzinfo is not None and _dst_slip(parsed, zone):
        parsed = parsed.replace(tzinfo=None)  # the wall-clock time the caller said, in the business's zone
    if parsed.tzinfo is None:
        if not _exists(parsed, zone):
            raise ValueError("That time does not exist on that day because the clocks change.")
        parsed = parsed.replace(tzinfo=zone, fold=0)
    return parsed.astimezone(UTC)


def _dst_slip(parsed: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """True when the offset is one of the business zone's own offsets (standard or daylight),
    but not the one in force at that wall-clock time: an agent that wrote "2:00 PM" with last
    month's offset. The caller meant the wall-clock time; taking the offset literally would book
    an hour off. Any other offset (``Z``, another zone) is taken as given."""
    naive = parsed.replace(tzinfo=None)
    year = naive.year
    own = {dt.datetime(year, 1, 1, 12, tzinfo=zone).utcoffset(), dt.datetime(year, 7, 1, 12, tzinfo=zone).utcoffset()}
    if len(own) < 2 or parsed.utcoffset() not in own or not _exists(naive, zone):
        return False
    return naive.replace(tzinfo=zone, fold=0).utcoffset() != parsed.utcoffset()


# --- saying it ------------------------------------------------------------------------------------

def zone_name(zone: zoneinfo.ZoneInfo, at: dt.datetime) -> str:
    """``Mountain Time`` for US zones; the abbreviation (``MST``) elsewhere."""
    return _ZONE_NAMES.get(zone.key) or at.astimezone(zone).tzname() or zone.key


def _clock(local: dt.datetime) -> str:
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _date(local: dt.datetime) -> str:
    return f"{local.strftime('%A')}, {local.strftime('%B')} {local.day}"


def describe(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``Thursday, March 5 at 2:00 PM Mountain Time``: date, time and zone, always explicit."""
    local = start.astimezone(zone)
    return f"{_date(local)} at {_clock(local)} {zone_name(zone, start)}"


def describe_short(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``March 5 at 2:00 PM MST`` (for the call's action log)."""
    local = start.astimezone(zone)
    return f"{local.strftime('%B')} {local.day} at {_clock(local)} {local.tzname()}"


def speak_slots(slots: Sequence[Slot], zone: zoneinfo.ZoneInfo) -> str:
    """One sentence listing slots grouped by day: ``Thursday, March 5 at 9:00 AM, 10:00 AM or
    2:00 PM; Friday, March 6 at 9:00 AM (Mountain Time)``."""
    if not slots:
        return ""
    days: list[tuple[str, list[str]]] = []
    for slot in slots:
        local = slot.start.astimezone(zone)
        label = _date(local)
        if not days or days[-1][0] != label:
            days.append((label, []))
        days[-1][1].append(_clock(local))
    parts = []
    for label, times in days:
        said = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " or " + times[-1]
        parts.append(f"{label} at {said}")
    return "; ".join(parts) + f" ({zone_name(zone, slots[0].start)})"


def iso_local(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``2026-03-05T14:00:00-07:00``: what the agent passes back to book_appointment."""
    return at.astimezone(zone).isoformat(timespec="seconds")
