"""The overview's numbers: today's and this week's calls by how they were handled, bookings,
texts, calls per day, and the calls in progress.

Rules this module keeps:

* Days are the business's days (its time zone); the week starts on Monday.
* It reads the calls of the last :data:`DAYS` days in one query on ``created_at`` (a
  single-field index), at most :data:`MAX_CALLS` of them: a business taking more than that in
  two weeks sees the counts marked as partial (``capped``) rather than a page that reads
  without bound. Texts the same way, since the week's start.
* In progress: calls whose status is ringing or in progress, started within
  :data:`LIVE_WINDOW` (so a call whose last callback was lost does not stay "live" for ever):
  one query, composite index ``(status, created_at)``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shared.tenants import TenantScope
from shared.voice.calls import CallRecord

DAYS = 14
MAX_CALLS = 5_000
MAX_TEXTS = 5_000
LIVE_WINDOW = dt.timedelta(hours=4)
KINDS = ("ai", "forward", "voicemail", "missed", "other")


def kind_of(doc: dict[str, Any]) -> str:
    """How the call was handled, for the overview's counts."""
    outcome = doc.get("outcome")
    if outcome == "missed":
        return "missed"
    route = doc.get("route")
    if route in ("ai", "forward", "voicemail"):
        return route
    return "other"


@dataclass
class Counts:
    calls: int = 0
    kinds: Counter = field(default_factory=Counter)
    booked: int = 0
    texts: int = 0


@dataclass
class Overview:
    today: Counts
    week: Counts
    per_day: list[tuple[dt.date, Counter]]  # oldest first, DAYS entries
    in_progress: list[CallRecord]
    capped: bool


def _start_of(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def overview(scope: TenantScope, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> Overview:
    today = now.astimezone(zone).date()
    first_day = today - dt.timedelta(days=DAYS - 1)
    week_start = today - dt.timedelta(days=today.weekday())
    calls = scope.query(scope.collection("calls").where("created_at", ">=", _start_of(first_day, zone))
                        .order_by("created_at", "desc").page(MAX_CALLS))
    per_day: dict[dt.date, Counter] = {first_day + dt.timedelta(days=i): Counter() for i in range(DAYS)}
    counts = {"today": Counts(), "week": Counts()}
    for doc in calls:
        day = doc.data["created_at"].astimezone(zone).date()
        kind = kind_of(doc.data)
        if day in per_day:
            per_day[day][kind] += 1
        for name, since in (("today", today), ("week", week_start)):
            if day >= since:
                counts[name].calls += 1
                counts[name].kinds[kind] += 1
                counts[name].booked += doc.data.get("outcome") == "booked"
    texts = scope.query(scope.collection("messages").where("created_at", ">=", _start_of(week_start, zone))
                        .order_by("created_at", "desc").page(MAX_TEXTS))
    for doc in texts:
        day = doc.data["created_at"].astimezone(zone).date()
        counts["week"].texts += 1
        counts["today"].texts += day >= today
    return Overview(counts["today"], counts["week"], sorted(per_day.items()), in_progress(scope, now),
                    capped=len(calls) >= MAX_CALLS or len(texts) >= MAX_TEXTS)


def in_progress(scope: TenantScope, now: dt.datetime, limit: int = 20) -> list[CallRecord]:
    docs = scope.query(scope.collection("calls").where("status", "in", ["ringing", "in-progress"])
                       .where("created_at", ">=", now - LIVE_WINDOW).page(limit))
    return sorted((CallRecord.model_validate(d.data) for d in docs), key=lambda c: c.created_at or now, reverse=True)
