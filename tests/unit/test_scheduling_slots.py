"""Pure slot computation: windows in the tenant's zone, lead time, horizon, bookings, buffers,
DST transitions, and how slots are said."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from pydantic import ValidationError

from shared.scheduling.settings import SchedulingSettings, Window
from shared.scheduling.slots import (
    day_slots, describe, describe_short, find_offered, iso_local, open_slots, parse_start, slot_key, speak_slots,
)

DENVER = zoneinfo.ZoneInfo("America/Denver")
NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc
# Monday 2026-03-02, 08:00 in Denver (MST, UTC-7)
MONDAY_8AM = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def local(y, m, d, h, mi=0, zone=DENVER, fold=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=zone, fold=fold).astimezone(UTC)


def starts(slots, zone=DENVER):
    return [s.start.astimezone(zone).strftime("%a %H:%M") for s in slots]


def night(**kw) -> SchedulingSettings:
    """Open every day from midnight to 4 AM: the hours the US DST changes happen in."""
    day = [Window(start=dt.time(0), end=dt.time(4))]
    return SchedulingSettings(windows={d: day for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, **kw)


def test_today_respects_the_lead_time_and_the_window_end():
    slots = open_slots(SchedulingSettings(), DENVER, MONDAY_8AM, days=1)
    # 8:00 now + 2 h notice: 10:00 is the first; the last one ends at 17:00
    assert starts(slots) == ["Mon 10:00", "Mon 11:00", "Mon 12:00", "Mon 13:00", "Mon 14:00", "Mon 15:00", "Mon 16:00"]
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in slots)


def test_weekends_and_closed_dates_offer_nothing_and_the_horizon_ends_the_list():
    s = SchedulingSettings(horizon_days=7)
    slots = open_slots(s, DENVER, MONDAY_8AM, closed=[dt.date(2026, 3, 4)])
    days = sorted({x.start.astimezone(DENVER).date() for x in slots})
    assert days == [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 5), dt.date(2026, 3, 6)]
    assert open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 9)) == []  # beyond the 7 days
    assert open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 7)) == []  # Saturday


def test_booked_appointments_and_their_buffer_are_excluded():
    s = SchedulingSettings(slot_minutes=30, buffer_minutes=15, lead_minutes=0)
    # steps of 45 min from 9:00: 9:00, 9:45, 10:30, 11:15 ...
    booked = [(local(2026, 3, 3, 9, 45), local(2026, 3, 3, 10, 15))]
    got = starts(open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 3), booked=booked))
    assert got[:3] == ["Tue 09:00", "Tue 10:30", "Tue 11:15"]  # 9:45 booked; neighbours clear the 15 min buffer
    # an appointment outside the grid (booked under older settings) blocks what it overlaps
    booked = [(local(2026, 3, 3, 9, 20), local(2026, 3, 3, 9, 50))]
    got = starts(open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 3), booked=booked))
    assert got[:2] == ["Tue 10:30", "Tue 11:15"]


def test_disabled_scheduling_offers_nothing():
    assert open_slots(SchedulingSettings(enabled=False), DENVER, MONDAY_8AM) == []


def test_business_hours_stay_wall_clock_across_the_spring_forward():
    s = SchedulingSettings(lead_minutes=0, horizon_days=14)
    friday = open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 6))
    monday = open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 9))  # clocks changed on Sunday the 8th
    assert friday[0].start == dt.datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # 9:00 MST
    assert monday[0].start == dt.datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 9:00 MDT
    assert [x.replace("Fri", "Mon") for x in starts(friday)] == starts(monday)


def test_spring_forward_skips_the_missing_hour():
    slots = day_slots(night(), DENVER, dt.date(2026, 3, 8))
    assert starts(slots) == ["Sun 00:00", "Sun 01:00", "Sun 03:00"]
    assert [s.start.strftime("%H:%M") for s in slots] == ["07:00", "08:00", "09:00"]  # UTC
    # every slot lasts one real hour; the 1:00 one ends at 3:00 MDT, right when the next begins
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in slots)
    assert slots[1].end == slots[2].start
    assert slots[-1].end.astimezone(DENVER).strftime("%H:%M") == "04:00"


def test_a_window_ending_inside_the_missing_hour_never_runs_past_it():
    s = SchedulingSettings(windows={"sun": [Window(start=dt.time(0), end=dt.time(2, 30))]}, slot_minutes=30)
    slots = day_slots(s, DENVER, dt.date(2026, 3, 8))
    assert starts(slots) == ["Sun 00:00", "Sun 00:30", "Sun 01:00"]
    assert max(x.end for x in slots) <= dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # the change itself


def test_fall_back_offers_the_repeated_hour_once():
    slots = day_slots(night(), DENVER, dt.date(2026, 11, 1))
    assert starts(slots) == ["Sun 00:00", "Sun 01:00", "Sun 02:00", "Sun 03:00"]
    one_am = slots[1]
    assert one_am.start == dt.datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 1:00 MDT, the first 1:00
    assert one_am.start.astimezone(DENVER).tzname() == "MDT"
    assert len({s.start for s in slots}) == len(slots)
    assert all(a.end <= b.start for a, b in zip(slots, slots[1:]))


def test_describe_states_date_time_and_zone():
    thursday_2pm = local(2026, 3, 5, 14)
    assert describe(thursday_2pm, DENVER) == "Thursday, March 5 at 2:00 PM Mountain Time"
    assert describe_short(thursday_2pm, DENVER) == "March 5 at 2:00 PM MST"
    assert describe_short(local(2026, 3, 12, 9, 30), DENVER) == "March 12 at 9:30 AM MDT"
    assert describe(local(2026, 7, 4, 0, 15, NY), NY) == "Saturday, July 4 at 12:15 AM Eastern Time"
    assert describe(dt.datetime(2026, 1, 1, 12, tzinfo=UTC), zoneinfo.ZoneInfo("Europe/Paris")).endswith("1:00 PM CET")
    assert iso_local(thursday_2pm, DENVER) == "2026-03-05T14:00:00-07:00"
    assert slot_key(thursday_2pm) == "2026-03-05T21:00Z"


def test_speak_slots_groups_by_day():
    s = SchedulingSettings(lead_minutes=0)
    slots = open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 5))[:3] + \
        open_slots(s, DENVER, MONDAY_8AM, on=dt.date(2026, 3, 6))[:1]
    assert speak_slots(slots, DENVER) == ("Thursday, March 5 at 9:00 AM, 10:00 AM or 11:00 AM; "
                                          "Friday, March 6 at 9:00 AM (Mountain Time)")
    assert speak_slots([], DENVER) == ""


@pytest.mark.parametrize("text,expected", [
    ("2026-03-05T14:00:00-07:00", dt.datetime(2026, 3, 5, 21, 0, tzinfo=UTC)),
    ("2026-03-05T21:00:00Z", dt.datetime(2026, 3, 5, 21, 0, tzinfo=UTC)),
    ("2026-03-05T14:00", dt.datetime(2026, 3, 5, 21, 0, tzinfo=UTC)),  # no offset: the business's time
    ("2026-03-05 14:00", dt.datetime(2026, 3, 5, 21, 0, tzinfo=UTC)),
    # March 12 is daylight time: "-07:00" is the winter offset, the caller meant 2:00 PM MDT
    ("2026-03-12T14:00:00-07:00", dt.datetime(2026, 3, 12, 20, 0, tzinfo=UTC)),
    ("2026-03-12T14:00:00-06:00", dt.datetime(2026, 3, 12, 20, 0, tzinfo=UTC)),
    ("2026-03-12T20:00:00Z", dt.datetime(2026, 3, 12, 20, 0, tzinfo=UTC)),  # UTC is taken as given
    ("2026-03-12T16:00:00-04:00", dt.datetime(2026, 3, 12, 20, 0, tzinfo=UTC)),  # so is another zone's offset
])
def test_parse_start_reads_what_the_agent_sends(text, expected):
    assert parse_start(text, DENVER, now=MONDAY_8AM) == expected


@pytest.mark.parametrize("text", ["", "tomorrow at two", "2026-13-05T14:00", None, 42, "2026-03-08T02:30",
                                  # beyond any booking horizon, up to datetime's limits (which overflowed)
                                  "9999-12-31T23:30", "9999-12-31T23:30:00+14:00", "0001-01-01T00:00-12:00",
                                  "2027-03-05T14:00:00-07:00"])
def test_parse_start_refuses_with_a_sentence(text):
    with pytest.raises(ValueError) as info:
        parse_start(text, DENVER, now=MONDAY_8AM)
    assert info.value.args[0].endswith(".")


def test_parse_start_reaches_a_year_ahead():
    assert parse_start("2027-03-01T14:00", DENVER, now=MONDAY_8AM) == dt.datetime(2027, 3, 1, 21, 0, tzinfo=UTC)


def test_open_slots_on_a_date_at_the_calendar_limits_is_empty():
    assert open_slots(SchedulingSettings(), DENVER, MONDAY_8AM, on=dt.date(9999, 12, 31)) == []
    assert open_slots(SchedulingSettings(), DENVER, MONDAY_8AM, on=dt.date(1, 1, 1)) == []


def test_find_offered_accepts_only_open_grid_slots():
    s = SchedulingSettings()
    assert find_offered(s, DENVER, MONDAY_8AM, local(2026, 3, 5, 14)) is not None
    assert find_offered(s, DENVER, MONDAY_8AM, local(2026, 3, 5, 14, 30)) is None  # off the grid
    assert find_offered(s, DENVER, MONDAY_8AM, local(2026, 3, 2, 9)) is None  # inside the lead time
    assert find_offered(s, DENVER, MONDAY_8AM, local(2026, 3, 5, 17)) is None  # after hours
    booked = [(local(2026, 3, 5, 14), local(2026, 3, 5, 15))]
    assert find_offered(s, DENVER, MONDAY_8AM, local(2026, 3, 5, 14), booked=booked) is None


def test_settings_refuse_impossible_windows():
    with pytest.raises(ValidationError):
        Window(start=dt.time(17), end=dt.time(9))
    with pytest.raises(ValidationError):
        SchedulingSettings(windows={"mon": [Window(start=dt.time(9), end=dt.time(12)),
                                            Window(start=dt.time(11), end=dt.time(14))]})
    with pytest.raises(ValidationError):
        SchedulingSettings(slot_minutes=0)


def test_settings_round_trip_through_a_document():
    s = SchedulingSettings(windows={"sat": [Window(start=dt.time(8, 30), end=dt.time(12))]},
                           closed_dates=[dt.date(2026, 12, 25)])
    doc = s.to_doc()
    assert doc["windows"]["sat"] == [{"start": "08:30", "end": "12:00"}] and doc["closed_dates"] == ["2026-12-25"]
    assert SchedulingSettings.from_doc(doc) == s


US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
            "America/Anchorage", "Pacific/Honolulu"]


@hsettings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(US_ZONES), day=st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)),
       slot=st.sampled_from([15, 30, 45, 60, 90]), buffer=st.sampled_from([0, 10, 15]),
       start_hour=st.integers(0, 20), length=st.integers(1, 6))
def test_slots_are_real_disjoint_and_inside_their_window(zone, day, slot, buffer, start_hour, length):
    tz = zoneinfo.ZoneInfo(zone)
    end_hour = min(23, start_hour + length)
    window = Window(start=dt.time(start_hour), end=dt.time(end_hour, 59 if end_hour == 23 else 0))
    s = SchedulingSettings(windows={d: [window] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                           slot_minutes=slot, buffer_minutes=buffer)
    slots = day_slots(s, tz, day)
    for x in slots:
        assert x.end - x.start == dt.timedelta(minutes=slot)
        start_local = x.start.astimezone(tz)
        assert start_local.date() == day and start_local.time() >= window.start
        # the wall-clock start exists and reads back the same
        assert dt.datetime.combine(day, start_local.time()).replace(tzinfo=tz).astimezone(UTC) is not None
        assert x.end <= dt.datetime.combine(day, window.end).replace(tzinfo=tz, fold=1).astimezone(UTC)
    assert all(a.end <= b.start for a, b in zip(slots, slots[1:]))
    assert len({x.start for x in slots}) == len(slots)


@hsettings(max_examples=200, deadline=None)
@given(bookings=st.lists(st.tuples(st.integers(0, 14 * 24 * 4), st.integers(1, 40)), max_size=25),
       buffer=st.sampled_from([0, 15, 30]), slot=st.sampled_from([30, 60]))
def test_booked_exclusion_matches_the_plain_definition(bookings, buffer, slot):
    s = SchedulingSettings(slot_minutes=slot, buffer_minutes=buffer, lead_minutes=0)
    base = dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    booked = [(base + dt.timedelta(minutes=15 * q), base + dt.timedelta(minutes=15 * (q + n))) for q, n in bookings]
    free = open_slots(s, DENVER, MONDAY_8AM)
    expected = [x for x in open_slots(s, DENVER, MONDAY_8AM, booked=())
                if not any(b0 - s.buffer < x.end and b1 + s.buffer > x.start for b0, b1 in booked)]
    assert open_slots(s, DENVER, MONDAY_8AM, booked=booked) == expected
    assert set(expected) <= set(free)
