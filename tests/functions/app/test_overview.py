"""The overview on the home page: today's and this week's counts in the business's days, the two
server-side SVG charts, and the calls in progress with their live fragment (a static script
reloads it: no inline script under the CSP)."""

from __future__ import annotations

import datetime as dt
import re

from shared.tenants import TenantScope
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
