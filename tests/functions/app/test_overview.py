"""The overview on the home page: today's and this week's counts in the business's days, the two
server-side SVG charts, and the calls in progress with their live fragment (a static script
reloads it: no inline script under the CSP)."""

from __future__ import annotations

import datetime as dt
import re

from shared.tenants import TenantScope
from shared.voice import overview
from shared.voice.listing import listing_fields


def put(scope, sid, at, **fields):
    doc = {"call_sid": sid, "created_at": at, **fields}
    scope.set(f"calls/{sid}", {**doc, **listing_fields(doc)})


def test_the_home_page_shows_the_day_the_week_the_charts_and_live_calls(app_client, ports, clock, business,
                                                                         signed_in):
    scope = TenantScope(ports.store(), business.tenant_id)
    # FixedClock: Monday 2026-03-02 15:00 UTC = 10:00 in New York (the default zone)
    now = clock.now()
    put(scope, "CA1", now - dt.timedelta(hours=1), route="ai", status="completed",
        action_log=[{"at": now, "text": "AI booked", "key": "book:a1"}])
    put(scope, "CA2", now - dt.timedelta(hours=2), route="forward", status="no-answer")
    put(scope, "CA3", now - dt.timedelta(days=2), route="voicemail", status="completed",  # Saturday: last week
        recordings=[{"recording_sid": "RE3", "source": "twilio", "blob_path": "r/3.wav", "size": 1, "sha256": "0" * 64,
                     "stored_at": now}])
    put(scope, "CA4", now - dt.timedelta(minutes=2), route="ai", status="in-progress", caller_name="Maria Lopez")
    put(scope, "CA5", now - dt.timedelta(hours=9), route="ai", status="in-progress")  # a lost callback
    scope.set("messages/SM1", {"id": "SM1", "created_at": now - dt.timedelta(minutes=5), "direction": "outbound"})
    # signing in showed the overview already, before these calls were written (Saturday's among
    # them): its kept day summaries go, as if the calls had been there first
    for kept in scope.query(scope.collection(overview.SUMMARIES)):
        ports.store().delete(kept.path)
    page = app_client.get("/")
    assert page.status_code == 200
    today = re.search(r'aria-label="Today">(.*?)</section>', page.text, re.S).group(1)
    assert "4 calls" in today and "Answered by AI: 3" in today and "Missed: 1" in today
    assert "Bookings: 1" in today and "Texts: 1" in today
    week = re.search(r'aria-label="This week">(.*?)</section>', page.text, re.S).group(1)
    assert "4 calls" in week and "Voicemail: 0" in week  # Saturday's voicemail was last week
    assert page.text.count("<svg") == 2 and "Calls per day" in page.text
    assert "Sat Feb 28: 1 voicemail" in page.text  # the chart's bar for Saturday, in the business's days
    assert "<script>" not in page.text and re.search(r'<script src="[^"]*/assets/live\.[0-9a-f]+\.js"', page.text)
    live = app_client.get("/overview/live")
    assert live.status_code == 200 and "Maria Lopez" in live.text and "CA5" not in live.text
    static = re.search(r'<script src="[^"]*(/assets/live\.[0-9a-f]+\.js)"', page.text).group(1)
    assert app_client.get(static).status_code == 200


def test_the_live_fragment_needs_a_member(app_client, business):
    assert app_client.get("/overview/live").status_code in (302, 401)


def test_a_settled_day_is_counted_once_and_kept_and_a_deleted_call_recounts_it(ports, clock, business):
    """Reads stay bounded by one day's volume: a day over for SETTLED is kept as a summary and
    read from it (its calls are not read again); today is counted live; deleting a call forgets
    its day's summary; a change of time zone recounts."""
    from shared.voice.call_delete import delete_call

    scope = TenantScope(ports.store(), business.tenant_id)
    now = clock.now()  # Monday 10:00 in New York
    zone = scope.tenant().zone
    put(scope, "CAsat", now - dt.timedelta(days=2), route="ai", status="completed")
    put(scope, "CAmon", now - dt.timedelta(hours=1), route="forward", status="completed")
    first = overview.overview(scope, zone, now)
    saturday = dict(first.per_day)[dt.date(2026, 2, 28)]
    assert saturday["ai"] == 1 and first.today.calls == 1
    kept = scope.get(f"{overview.SUMMARIES}/2026-02-28")
    assert kept["calls"] == 1 and kept["zone"] == "America/New_York" and kept["expire_at"] > now
    assert scope.get(f"{overview.SUMMARIES}/2026-03-02") is None  # today is not settled: never kept

    counted = []
    real = overview.count_day
    overview.count_day = lambda *a: counted.append(a[1]) or real(*a)
    try:
        again = overview.overview(scope, zone, now)
    finally:
        overview.count_day = real
    assert counted == [dt.date(2026, 3, 2)]  # only today is counted from its calls; the rest are kept
    assert dict(again.per_day) == dict(first.per_day)

    delete_call(ports, business.tenant_id, "CAsat", actor_user_id=business.owner_id)
    assert scope.get(f"{overview.SUMMARIES}/2026-02-28") is None
    assert dict(overview.overview(scope, zone, now).per_day)[dt.date(2026, 2, 28)]["ai"] == 0

    import zoneinfo
    honolulu = zoneinfo.ZoneInfo("Pacific/Honolulu")
    put(scope, "CAsun", dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone.utc), route="ai", status="completed")
    # 08:30 UTC Sunday is Saturday 22:30 in Honolulu: kept New York summaries are recounted there
    assert dict(overview.overview(scope, honolulu, now).per_day)[dt.date(2026, 2, 28)]["ai"] == 1
