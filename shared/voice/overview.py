"""The overview's numbers: today's and this week's calls by how they were handled, bookings,
texts, calls per day, and the calls in progress.

Rules this module keeps:

* Days are the business's days (its time zone); the week starts on Monday.
* Reads stay bounded by one day's volume, whatever the history: a day that is over and
  settled (:data:`SETTLED` after its end, when its calls' outcomes no longer change) is counted
  once and kept as a summary (``overview_days/{date}``: counts by kind, bookings, texts; in the
  business's zone, recounted when the zone changes); the overview reads those summaries in one
  round trip and counts only the unsettled days (today, and yesterday early in the morning) from
  their calls and texts, at most :data:`MAX_DAY_CALLS` / :data:`MAX_DAY_TEXTS` each (beyond:
  ``capped``, the counts marked partial). Deleting a call forgets its day's summary
  (:func:`forget_day`). Summaries expire with the retention TTL (``expire_at``).
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
MAX_DAY_CALLS = 5_000
MAX_DAY_TEXTS = 5_000
SETTLED = dt.timedelta(hours=6)
SUMMARIES = "overview_days"
KEEP_SUMMARY = dt.timedelta(days=35)
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
class Overview:
    today: Counts
    week: Counts
    per_day: list[tuple[dt.date, Counter]]  # oldest first, DAYS entries
    in_progress: list[CallRecord]
    capped: bool


def _start_of(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


@dataclass
class Counts:
    """Calls by kind, bookings and texts: of one day (kept as its summary), or summed."""

    calls: int = 0
    kinds: Counter = field(default_factory=Counter)
    booked: int = 0
    texts: int = 0
    capped: bool = False  # a day held more than MAX_DAY_CALLS / MAX_DAY_TEXTS: partial

    def add(self, other: "Counts") -> None:
        self.calls += other.calls
        self.kinds.update(other.kinds)
        self.booked += other.booked
        self.texts += other.texts
        self.capped = self.capped or other.capped

    def to_doc(self, zone: zoneinfo.ZoneInfo, now: dt.datetime, day: dt.date) -> dict[str, Any]:
        return {"zone": str(zone), "calls": self.calls, "kinds": dict(self.kinds), "booked": self.booked,
                "texts": self.texts, "capped": self.capped, "computed_at": now,
                "expire_at": _start_of(day, zone) + KEEP_SUMMARY}

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> "Counts":
        return cls(int(data.get("calls") or 0), Counter({k: int(v) for k, v in (data.get("kinds") or {}).items()}),
                   int(data.get("booked") or 0), int(data.get("texts") or 0), bool(data.get("capped")))


def _between(scope: TenantScope, collection: str, start: dt.datetime, end: dt.datetime, limit: int):
    return scope.query(scope.collection(collection).where("created_at", ">=", start).where("created_at", "<", end)
                       .order_by("created_at", "desc").page(limit))


def count_day(scope: TenantScope, day: dt.date, zone: zoneinfo.ZoneInfo) -> Counts:
    """One day of the business's calls and texts, counted from the records (bounded)."""
    start, end = _start_of(day, zone), _start_of(day + dt.timedelta(days=1), zone)
    counted = Counts()
    calls = _between(scope, "calls", start, end, MAX_DAY_CALLS)
    for doc in calls:
        counted.calls += 1
        counted.kinds[kind_of(doc.data)] += 1
        counted.booked += doc.data.get("outcome") == "booked"
    texts = _between(scope, "messages", start, end, MAX_DAY_TEXTS)
    counted.texts = len(texts)
    counted.capped = len(calls) >= MAX_DAY_CALLS or len(texts) >= MAX_DAY_TEXTS
    return counted


def _summary_path(day: dt.date) -> str:
    return f"{SUMMARIES}/{day.isoformat()}"


def days(scope: TenantScope, zone: zoneinfo.ZoneInfo, now: dt.datetime, first: dt.date,
         last: dt.date) -> dict[dt.date, Counts]:
    """``first`` .. ``last`` (business days), each from its kept summary when settled, else
    counted now; a settled day without a summary (or one made in another zone) is counted once
    and kept."""
    wanted = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    kept = scope.store.get_many([scope.path(_summary_path(day)) for day in wanted])
    found: dict[dt.date, Counts] = {}
    for day in wanted:
        data = kept.get(scope.path(_summary_path(day)))
        if data is not None and data.get("zone") == str(zone):
            found[day] = Counts.from_doc(data)
            continue
        found[day] = count_day(scope, day, zone)
        if now >= _start_of(day + dt.timedelta(days=1), zone) + SETTLED:
            scope.set(_summary_path(day), found[day].to_doc(zone, now, day))
    return found


def forget_day(scope: TenantScope, created_at: dt.datetime | None) -> None:
    """A call of that day was deleted: its summary is counted again at the next overview."""
    if created_at is None:
        return
    zone = scope.tenant().zone
    scope.delete(_summary_path(created_at.astimezone(zone).date()))


def overview(scope: TenantScope, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> Overview:
    today = now.astimezone(zone).date()
    first_day = today - dt.timedelta(days=DAYS - 1)
    week_start = today - dt.timedelta(days=today.weekday())
    counted = days(scope, zone, now, min(first_day, week_start), today)
    week = Counts()
    for day, one in counted.items():
        if day >= week_start:
            week.add(one)
    per_day = [(day, Counter(counted[day].kinds)) for day in sorted(counted) if day >= first_day]
    return Overview(counted[today], week, per_day, in_progress(scope, now),
                    capped=any(one.capped for one in counted.values()))


def in_progress(scope: TenantScope, now: dt.datetime, limit: int = 20) -> list[CallRecord]:
    docs = scope.query(scope.collection("calls").where("status", "in", ["ringing", "in-progress"])
                       .where("created_at", ">=", now - LIVE_WINDOW).page(limit))
    return sorted((CallRecord.model_validate(d.data) for d in docs), key=lambda c: c.created_at or now, reverse=True)
