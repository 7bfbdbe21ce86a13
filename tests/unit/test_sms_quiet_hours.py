"""Area code -> time zones, and the 8 a.m.-9 p.m. window in the recipient's local time."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.sms.timezones import (
    AREA_CODE_ZONES,
    allowed_at,
    area_code,
    next_allowed,
    recipient_zones,
    zone_names_for,
)

UTC = dt.timezone.utc


def at(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize("number,zones", [
    ("+13035550142", ("America/Denver",)), ("+12125550142", ("America/New_York",)),
    ("+13125550142", ("America/Chicago",)), ("+14155550142", ("America/Los_Angeles",)),
    ("+16025550142", ("America/Phoenix",)), ("+18085550142", ("Pacific/Honolulu",)),
    ("+19155550142", ("America/Denver",)),  # El Paso is on Mountain time
    ("+12195550142", ("America/Chicago", "America/New_York")),  # NW Indiana straddles
])
def test_known_area_codes(number, zones):
    assert zone_names_for(number) == zones


def test_table_is_well_formed():
    assert len(AREA_CODE_ZONES) > 300
    for code, zones in AREA_CODE_ZONES.items():
        assert len(code) == 3 and code.isdigit() and code[0] not in "01"
        assert zones and all(zoneinfo.ZoneInfo(z) for z in zones)
    assert "907" in AREA_CODE_ZONES and "America/Anchorage" in AREA_CODE_ZONES["907"]


@pytest.mark.parametrize("number", ["+18005550142", "+18885550142", "+15005550142", "+442071838750", "3035550142", ""])
def test_toll_free_foreign_and_malformed_numbers_fall_back_to_the_business_zone(number):
    assert zone_names_for(number) is None
    assert recipient_zones(number, "America/Denver") == (zoneinfo.ZoneInfo("America/Denver"),)


def test_area_code():
    assert area_code("+13035550142") == "303"
    assert area_code("+4420718387") is None


DENVER = recipient_zones("+13035550142", "America/New_York")


@pytest.mark.parametrize("local,allowed", [
    ((2026, 3, 2, 7, 59), False), ((2026, 3, 2, 8, 0), True), ((2026, 3, 2, 12, 0), True),
    ((2026, 3, 2, 20, 59), True), ((2026, 3, 2, 21, 0), False), ((2026, 3, 2, 23, 30), False),
    ((2026, 3, 2, 3, 0), False),
    # DST: spring forward (8 March 2026) and fall back (1 November 2026)
    ((2026, 3, 8, 8, 0), True), ((2026, 3, 8, 7, 30), False), ((2026, 11, 1, 8, 0), True), ((2026, 11, 1, 21, 0), False),
])
def test_the_window_is_local_wall_clock_time(local, allowed):
    assert allowed_at(at("America/Denver", *local), DENVER) is allowed


def test_a_straddling_area_code_needs_the_window_in_every_zone():
    zones = recipient_zones("+12195550142", "America/Denver")
    # 8:30 in New York is 7:30 in Chicago: not yet
    assert not allowed_at(at("America/New_York", 2026, 3, 2, 8, 30), zones)
    assert next_allowed(at("America/New_York", 2026, 3, 2, 8, 30), zones) == at("America/Chicago", 2026, 3, 2, 8, 0)
    # 20:30 in Chicago is 21:30 in New York: too late
    assert not allowed_at(at("America/Chicago", 2026, 3, 2, 20, 30), zones)


def test_next_allowed_is_now_inside_the_window_and_8am_outside():
    inside = at("America/Denver", 2026, 3, 2, 10, 0)
    assert next_allowed(inside, DENVER) == inside
    assert next_allowed(at("America/Denver", 2026, 3, 2, 22, 0), DENVER) == at("America/Denver", 2026, 3, 3, 8, 0)
    assert next_allowed(at("America/Denver", 2026, 3, 3, 1, 0), DENVER) == at("America/Denver", 2026, 3, 3, 8, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        allowed_at(dt.datetime(2026, 3, 2, 12, 0), DENVER)


@settings(max_examples=300, deadline=None)
@given(instant=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC)),
       code=st.sampled_from(sorted(AREA_CODE_ZONES)))
def test_next_allowed_is_the_first_allowed_instant(instant, code):
    zones = recipient_zones(f"+1{code}5550142", "America/New_York")
    found = next_allowed(instant, zones)
    assert found >= instant and allowed_at(found, zones)
    assert found - instant < dt.timedelta(hours=25)
    step = instant
    while step < found - dt.timedelta(minutes=1):  # nothing allowed strictly before it
        assert not allowed_at(step, zones)
        step += dt.timedelta(minutes=10)
