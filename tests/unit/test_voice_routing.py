"""The routing rules engine (shared.voice.routing): pure, so every rule is tested directly."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from shared.models.tenant import Contact, Tenant, TenantSettings, TenantStatus
from shared.voice.routing import Caller, after_dial, choose, decide, route_choice
from shared.voice.settings import IvrMenu, IvrOption, TeamMember, TimeRange, VoiceSettings

DENVER = zoneinfo.ZoneInfo("America/Denver")
UTC = dt.timezone.utc
DANA = "+13035550111"
LEE = "+13035550122"
CALLER = "+17205550199"
SPAMMER = "+17205550666"
VIP = "+17205550777"


def local(*args: int) -> dt.datetime:
    """A Denver wall-clock time as an aware UTC instant (what the clock gives the function)."""
    return dt.datetime(*args, tzinfo=DENVER).astimezone(UTC)


def voice(**changes) -> VoiceSettings:
    base = dict(team=[TeamMember(id="dana", name="Dana", number=DANA), TeamMember(id="lee", name="Lee", number=LEE)],
                blocked_numbers=[SPAMMER], vip_numbers=[VIP])
    base.update(changes)
    return VoiceSettings(**base)


def tenant(v: VoiceSettings | None = None, status: TenantStatus = TenantStatus.active) -> Tenant:
    return Tenant(name="Sunrise Plumbing", contact=Contact(name="Dana", email="dana@example.com"),
                  time_zone="America/Denver", status=status, settings=TenantSettings(voice=v or voice()))


def route(t: Tenant | None, when: dt.datetime, number: str | None = CALLER):
    return decide(t, t.settings.voice if t else None, Caller(number), when)


MON_10 = local(2026, 3, 2, 10, 0)  # a Monday, open (Mon-Fri 9-17 by default)
MON_20 = local(2026, 3, 2, 20, 0)  # the same Monday, closed


# --- who owns the call --------------------------------------------------------------------------

def test_unknown_number_is_not_in_service():
    r = route(None, MON_10)
    assert (r.action, r.reason, r.answered) == ("not_in_service", "unknown_number", False)


def test_closed_account_is_not_in_service():
    assert route(tenant(status=TenantStatus.closed), MON_10).action == "not_in_service"


@pytest.mark.parametrize("status", [TenantStatus.suspended, TenantStatus.flagged_for_deletion])
def test_suspended_service_takes_voicemail_at_any_hour(status):
    for when in (MON_10, MON_20):
        r = route(tenant(status=status), when)
        assert (r.action, r.reason, r.record) == ("voicemail", "service_suspended", True)


# --- caller rules -----------------------------------------------------------------------------

def test_blocked_caller_is_rejected_even_when_suspended_or_vip():
    assert route(tenant(), MON_10, SPAMMER).action == "rejected"
    assert route(tenant(status=TenantStatus.suspended), MON_10, SPAMMER).action == "rejected"
    v = voice(vip_numbers=[SPAMMER])
    assert route(tenant(v), MON_10, SPAMMER).reason == "blocked_caller"


def test_blocked_numbers_match_whatever_format_the_business_typed():
    v = voice(blocked_numbers=["(720) 555-0666"])
    assert v.blocked_numbers == [SPAMMER]
    assert route(tenant(v), MON_10, SPAMMER).action == "rejected"


def test_anonymous_callers_are_rejected_only_when_the_business_says_so():
    assert route(tenant(), MON_10, None).action == "ai"
    r = route(tenant(voice(block_anonymous=True)), MON_10, None)
    assert (r.action, r.reason) == ("rejected", "anonymous_caller")


def test_vip_is_forwarded_at_any_hour_to_the_vip_targets():
    v = voice(vip_forward_to=["lee"], after_hours_action="voicemail")
    for when in (MON_10, MON_20):
        r = route(tenant(v), when, VIP)
        assert (r.action, r.reason, r.forward_to) == ("forward", "vip", (LEE,))


def test_vip_without_explicit_targets_rings_the_whole_team():
    assert route(tenant(), MON_10, VIP).forward_to == (DANA, LEE)


def test_vip_with_nobody_to_forward_to_is_routed_like_anyone():
    v = voice(team=[], vip_forward_to=[])
    assert route(tenant(v), MON_10, VIP).action == "ai"


# --- business hours ------------------------------------------------------------------------------

@pytest.mark.parametrize("when,is_open", [
    (local(2026, 3, 2, 8, 59), False),
    (local(2026, 3, 2, 9, 0), True),
    (local(2026, 3, 2, 16, 59), True),
    (local(2026, 3, 2, 17, 0), False),  # the end is exclusive
    (local(2026, 3, 7, 12, 0), False),  # Saturday
])
def test_default_hours_monday_to_friday_nine_to_five(when, is_open):
    r = route(tenant(voice(after_hours_action="voicemail")), when)
    assert (r.action == "ai") is is_open
    if not is_open:
        assert r.reason == "after_hours"


def test_hours_are_read_in_the_tenants_time_zone_not_utc():
    # 16:30 UTC on Monday is 09:30 in Denver (open) but 11:30 in New York.
    when = dt.datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert route(tenant(voice(after_hours_action="voicemail")), when).action == "ai"
    pacific = tenant(voice(after_hours_action="voicemail")).model_copy(update={"time_zone": "America/Los_Angeles"})
    assert route(pacific, when).action == "voicemail"  # 08:30 in Los Angeles


OVERNIGHT = {"fri": [TimeRange(start=dt.time(20), end=dt.time(2))]}


@pytest.mark.parametrize("when,is_open", [
    (local(2026, 3, 6, 19, 59), False),
    (local(2026, 3, 6, 20, 0), True),
    (local(2026, 3, 6, 23, 59), True),
    (local(2026, 3, 7, 1, 30), True),  # Saturday morning: Friday's shift
    (local(2026, 3, 7, 2, 0), False),
    (local(2026, 3, 7, 21, 0), False),  # Saturday evening has no shift
    (local(2026, 3, 5, 1, 0), False),  # Thursday morning: Wednesday has no shift
])
def test_overnight_ranges_run_into_the_next_day(when, is_open):
    v = voice(hours=OVERNIGHT, after_hours_action="voicemail")
    assert (route(tenant(v), when).action == "ai") is is_open


def test_sunday_overnight_range_wraps_into_monday():
    v = voice(hours={"sun": [TimeRange(start=dt.time(22), end=dt.time(6))]}, after_hours_action="voicemail")
    assert route(tenant(v), local(2026, 3, 2, 5, 0)).action == "ai"  # Monday 05:00
    assert route(tenant(v), local(2026, 3, 2, 6, 0)).action == "voicemail"


def test_equal_start_and_end_is_a_full_day():
    v = voice(hours={"sat": [TimeRange(start=dt.time(8), end=dt.time(8))]}, after_hours_action="voicemail")
    t = tenant(v)
    assert route(t, local(2026, 3, 7, 7, 59)).action == "voicemail"
    assert route(t, local(2026, 3, 7, 8, 0)).action == "ai"
    assert route(t, local(2026, 3, 8, 7, 59)).action == "ai"  # Sunday morning, Saturday's 24 hours
    assert route(t, local(2026, 3, 8, 8, 0)).action == "voicemail"


def test_split_shifts():
    v = voice(hours={"mon": [TimeRange(start=dt.time(8), end=dt.time(12)), TimeRange(start=dt.time(13), end=dt.time(17))]},
              after_hours_action="voicemail")
    assert route(tenant(v), local(2026, 3, 2, 12, 30)).action == "voicemail"
    assert route(tenant(v), local(2026, 3, 2, 13, 0)).action == "ai"


def test_holidays_close_the_whole_local_day():
    v = voice(holidays=[dt.date(2026, 12, 25)], after_hours_action="voicemail")
    r = route(tenant(v), local(2026, 12, 25, 10, 0))  # a Friday
    assert (r.action, r.reason) == ("voicemail", "after_hours")
    assert "holiday" in r.detail
    # 02:00 UTC on the 26th is still the 25th in Denver
    assert route(tenant(v), dt.datetime(2026, 12, 26, 2, 0, tzinfo=UTC)).action == "voicemail"
    assert route(tenant(v), local(2026, 12, 24, 10, 0)).action == "ai"


def test_a_holiday_closes_shifts_starting_on_it_but_not_the_tail_of_the_day_before():
    on_saturday = voice(hours=OVERNIGHT, holidays=[dt.date(2026, 3, 7)], after_hours_action="voicemail")
    assert route(tenant(on_saturday), local(2026, 3, 7, 1, 0)).action == "ai"  # Friday's shift goes on
    on_friday = voice(hours=OVERNIGHT, holidays=[dt.date(2026, 3, 6)], after_hours_action="voicemail")
    assert route(tenant(on_friday), local(2026, 3, 6, 21, 0)).action == "voicemail"
    assert route(tenant(on_friday), local(2026, 3, 7, 1, 0)).action == "voicemail"


# --- DST days in the tenant's zone (US DST 2026: March 8 and November 1) ----------------------

def test_the_same_utc_instant_is_open_after_spring_forward_and_closed_before():
    v = voice(after_hours_action="voicemail")
    assert route(tenant(v), dt.datetime(2026, 3, 2, 15, 30, tzinfo=UTC)).action == "voicemail"  # 08:30 MST
    assert route(tenant(v), dt.datetime(2026, 3, 9, 15, 30, tzinfo=UTC)).action == "ai"  # 09:30 MDT


def test_spring_forward_night_skips_the_missing_hour():
    v = voice(hours={"sun": [TimeRange(start=dt.time(1), end=dt.time(3))]}, after_hours_action="voicemail")
    assert route(tenant(v), dt.datetime(2026, 3, 8, 8, 30, tzinfo=UTC)).action == "ai"  # 01:30 MST
    assert route(tenant(v), dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)).action == "voicemail"  # 03:00 MDT


def test_fall_back_night_is_open_during_both_repeated_hours():
    v = voice(hours={"sun": [TimeRange(start=dt.time(1), end=dt.time(2))]}, after_hours_action="voicemail")
    assert route(tenant(v), dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)).action == "ai"  # 01:30 MDT
    assert route(tenant(v), dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)).action == "ai"  # 01:30 MST
    assert route(tenant(v), dt.datetime(2026, 11, 1, 9, 0, tzinfo=UTC)).action == "voicemail"  # 02:00 MST


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        decide(tenant(), None, Caller(CALLER), dt.datetime(2026, 3, 2, 10))


# --- actions and fallbacks ----------------------------------------------------------------------

def test_after_hours_actions():
    assert route(tenant(voice(after_hours_action="ai")), MON_20).action == "ai"
    r = route(tenant(voice(after_hours_action="voicemail")), MON_20)
    assert (r.action, r.record) == ("voicemail", True)
    r = route(tenant(voice(after_hours_action="forward", after_hours_forward_to=["dana", "+13035550199"])), MON_20)
    assert (r.action, r.forward_to) == ("forward", (DANA, "+13035550199"))
    r = route(tenant(voice(after_hours_action="forward")), MON_20)  # no explicit target: the team
    assert r.forward_to == (DANA, LEE)


def test_forward_with_nobody_to_forward_to_takes_voicemail():
    r = route(tenant(voice(team=[], open_action="forward")), MON_10)
    assert (r.action, r.reason) == ("voicemail", "no_forward_target")


def test_default_forward_targets_and_recording_choice():
    v = voice(open_action="forward", default_forward_to="lee", record_forwarded_calls=False)
    r = route(tenant(v), MON_10)
    assert (r.action, r.forward_to, r.record) == ("forward", (LEE,), False)


def test_ai_turned_off_takes_voicemail_and_says_why():
    r = route(tenant(voice(ai_enabled=False)), MON_10)
    assert (r.action, r.reason, r.record) == ("voicemail", "ai_disabled", True)


def test_every_recorded_route_is_marked_so():
    assert route(tenant(), MON_10).record  # ai
    assert route(tenant(voice(open_action="voicemail")), MON_10).record
    assert route(tenant(voice(open_action="forward")), MON_10).record
    assert not route(tenant(), MON_10, SPAMMER).record


# --- the IVR menu --------------------------------------------------------------------------------

MENU = IvrMenu(enabled=True, options={
    "1": IvrOption(label="Scheduling", action="ai", keywords=["appointment", "book"]),
    "2": IvrOption(label="Billing", action="forward", forward_to="dana", keywords=["invoice", "bill"]),
    "3": IvrOption(label="Emergencies", action="forward", keywords=["emergency", "leak"]),
    "9": IvrOption(label="Leave a message", action="voicemail", keywords=["message"]),
})


def test_ivr_answers_during_hours_only():
    v = voice(ivr=MENU, after_hours_action="voicemail")
    r = route(tenant(v), MON_10)
    assert (r.action, r.record) == ("ivr", True)  # the notice is played before the menu
    assert route(tenant(v), MON_20).action == "voicemail"


def test_ivr_enabled_without_options_is_skipped():
    assert route(tenant(voice(ivr=IvrMenu(enabled=True))), MON_10).action == "ai"


@pytest.mark.parametrize("digits,speech,expected", [
    ("1", None, "1"),
    ("2", "something else", "2"),  # keys win over speech
    ("7", None, None),
    ("", "I'd like to book an appointment", "1"),
    (None, "there's a leak in my kitchen", "3"),
    (None, "Billing please", "2"),
    (None, "one", "1"),
    (None, "press two", "2"),
    (None, "I want to talk to someone", None),  # "to" is not "two"
    (None, "emergency about my bill", None),  # ambiguous
    (None, "", None),
    (None, None, None),
])
def test_choosing_a_menu_option(digits, speech, expected):
    assert choose(MENU, digits, speech) == expected


def test_menu_choices_route_to_their_action():
    v = voice(ivr=MENU)
    r = route_choice(v, digits="1", speech=None, attempt=1)
    assert (r.action, r.reason, r.option) == ("ai", "ivr_choice", "1")
    r = route_choice(v, digits="2", speech=None, attempt=1)
    assert (r.action, r.forward_to, r.detail) == ("forward", (DANA,), "chose 2: Billing")
    assert route_choice(v, digits="3", speech=None, attempt=1).forward_to == (DANA, LEE)  # the team
    assert route_choice(v, digits="9", speech=None, attempt=1).action == "voicemail"
    r = route_choice(voice(ivr=MENU, ai_enabled=False), digits="1", speech=None, attempt=1)
    assert (r.action, r.reason) == ("voicemail", "ai_disabled")


def test_invalid_or_missing_choice_repeats_the_menu_once_then_takes_voicemail():
    v = voice(ivr=MENU)
    for digits in ("5", None):
        first = route_choice(v, digits=digits, speech=None, attempt=1)
        assert (first.action, first.reason) == ("ivr", "ivr_retry")
        second = route_choice(v, digits=digits, speech=None, attempt=2)
        assert (second.action, second.reason, second.record) == ("voicemail", "ivr_no_choice", True)


def test_menu_prompt_is_built_from_the_options():
    assert MENU.spoken_prompt().startswith("For Scheduling, press 1. For Billing, press 2.")
    assert IvrMenu(prompt="Hi. Press 1.", options=MENU.options).spoken_prompt() == "Hi. Press 1."


def test_menu_options_are_single_digits():
    with pytest.raises(ValueError):
        IvrMenu(options={"12": IvrOption(label="x", action="ai")})


def test_forward_targets_must_exist():
    with pytest.raises(ValueError):
        VoiceSettings(default_forward_to=["nobody"])


# --- after a dial ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,dial,call,expected", [
    ("forward", "completed", "in-progress", None),
    ("forward", "answered", None, None),
    ("forward", "no-answer", "in-progress", ("voicemail", "forward_unanswered")),
    ("forward", "busy", "in-progress", ("voicemail", "forward_unanswered")),
    ("forward", "failed", "in-progress", ("voicemail", "forward_unanswered")),
    ("forward", "no-answer", "completed", None),  # the caller already hung up
    ("forward", "canceled", "in-progress", None),
    ("ai", "failed", "in-progress", ("voicemail", "ai_unavailable")),
    ("ai", "completed", "completed", None),
])
def test_after_dial(kind, dial, call, expected):
    r = after_dial(kind, dial, call)
    assert (None if r is None else (r.action, r.reason)) == expected


# --- describing hours ------------------------------------------------------------------------------

def test_hours_are_described_for_people_and_the_agent():
    assert VoiceSettings().describe_hours() == "Monday to Friday 9:00 AM to 5:00 PM; Saturday and Sunday closed"
    v = VoiceSettings(hours={"mon": [TimeRange(start=dt.time(8), end=dt.time(12, 30))],
                             "sat": [TimeRange(start=dt.time(0), end=dt.time(0))]})
    assert v.describe_hours() == ("Monday 8:00 AM to 12:30 PM; Tuesday to Friday closed; Saturday 24 hours; "
                                  "Sunday closed")


def test_settings_round_trip_through_a_document():
    v = voice(ivr=MENU, holidays=[dt.date(2026, 12, 25)], hours=OVERNIGHT)
    doc = v.to_doc()
    assert doc["hours"]["fri"] == [{"start": "20:00", "end": "02:00"}] and doc["holidays"] == ["2026-12-25"]
    assert VoiceSettings.from_doc(doc) == v


# --- property: open_at agrees with a brute-force expansion of the ranges ------------------------

def _reference_open(v: VoiceSettings, when_local: dt.datetime) -> bool:
    """Expand each range into concrete wall-clock intervals around the date and test membership."""
    naive = when_local.replace(tzinfo=None)
    for offset in (-1, 0):
        day = naive.date() + dt.timedelta(days=offset)
        if day in v.holidays:
            continue
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
        for r in v.hours.get(weekday) or []:
            start = dt.datetime.combine(day, r.start)
            end = dt.datetime.combine(day, r.end)
            if r.end <= r.start:
                end += dt.timedelta(days=1)
            if start <= naive < end:
                return True
    return False


_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
_ranges = st.lists(st.builds(TimeRange, start=_times, end=_times), max_size=2)
_hours = st.dictionaries(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), _ranges)


@hsettings(max_examples=300, deadline=None)
@given(hours=_hours, minutes=st.integers(0, 366 * 24 * 60 - 1),
       holiday=st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))))
def test_open_at_matches_a_brute_force_reference(hours, minutes, holiday):
    v = VoiceSettings(hours=hours, holidays=[holiday] if holiday else [])
    when = (dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=minutes)).astimezone(DENVER)
    assert v.open_at(when)[0] is _reference_open(v, when)
