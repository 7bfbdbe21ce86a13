"""The business's Google Calendar busy times, for ``check_availability`` while the caller waits.

Decision (issue 16 item 7): a cached free/busy with a **short refresh** plus a **bounded
timeout**, no push notifications (a watch channel needs a public endpoint per calendar and its
renewal; a 30 s refresh gives the same answer to a caller):

* a free/busy younger than :data:`FRESH` (30 s; ``tenants/{t}/calendar_busy/{range}``) is used
  as it is: the several checks of one call cost Google one request;
* otherwise Google's freeBusy is asked, the whole lookup (token refresh included) bounded by
  the caller's ``run`` (the agent tools give it :data:`BUDGET_SECONDS` on a worker thread); a
  late answer still lands in the cache for the next check;
* Google slow, down or refusing: the last free/busy of that range younger than :data:`STALE_FOR`
  if there is one, else none -- the answer falls back to our own bookings (which the slots
  computation always subtracts) rather than keep the caller waiting.

A business with no live connection costs one document read (``shared.integrations.paths``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from shared.integrations.paths import connection_path, is_connected
from shared.logging import get_logger
from shared.ports import Ports

log = get_logger("z3.calendar")

PROVIDER = "google_calendar"
CACHE = "calendar_busy"
FRESH = dt.timedelta(seconds=30)
STALE_FOR = dt.timedelta(hours=6)
BUDGET_SECONDS = 1.5  # how long the caller waits for Google
FETCH_TIMEOUT = 4.0  # how long the fetch itself may take (a late answer still fills the cache)
REACH = dt.timedelta(days=14)  # the free/busy range asked at most (the agent offers the next few days)
Interval = tuple[dt.datetime, dt.datetime]
Runner = Callable[[Callable[[], list[Interval]], float], list[Interval]]


@dataclass(frozen=True)
class Busy:
    intervals: list[Interval]
    source: str  # "none" (not connected) | "google" | "cache" | "stale_cache" | "own_bookings"


def _cache_path(tenant_id: str, start: dt.datetime, end: dt.datetime) -> str:
    return f"tenants/{tenant_id}/{CACHE}/{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}"


def _stored(intervals: list[Interval]) -> list[dict[str, dt.datetime]]:
    return [{"start": s, "end": e} for s, e in intervals]


def _loaded(data: dict[str, Any]) -> list[Interval]:
    return [(b["start"], b["end"]) for b in data.get("busy") or []]


def _direct(fn: Callable[[], list[Interval]], seconds: float) -> list[Interval]:
    return fn()


def fetch(ports: Ports, tenant_id: str, start: dt.datetime, end: dt.datetime, *,
          timeout: float = BUDGET_SECONDS) -> list[Interval]:
    """Google's busy intervals now, stored in the cache."""
    from shared.calendar import connect

    busy = connect.call(ports, tenant_id, lambda cal, cid: cal.busy(cid, start, end, timeout=timeout),
                        timeout=timeout)
    ports.store().set(_cache_path(tenant_id, start, end), {"busy": _stored(busy), "fetched_at": ports.clock().now(),
                                                           "expire_at": end + dt.timedelta(days=1)})
    return busy


def busy(ports: Ports, tenant_id: str, start: dt.datetime, end: dt.datetime, *, run: Runner = _direct,
         budget: float = BUDGET_SECONDS) -> Busy:
    """The calendar's busy intervals between ``start`` and ``end`` (at most :data:`REACH`),
    within ``budget`` seconds (see the module docstring)."""
    store = ports.store()
    if end <= start or not is_connected(store.get(connection_path(tenant_id, PROVIDER))):
        return Busy([], "none")
    end = min(end, start + REACH)
    now = ports.clock().now()
    cached = store.get(_cache_path(tenant_id, start, end))
    if cached and now - cached["fetched_at"] < FRESH:
        return Busy(_loaded(cached), "cache")
    try:
        return Busy(run(lambda: fetch(ports, tenant_id, start, end, timeout=FETCH_TIMEOUT), budget), "google")
    except Exception as exc:  # noqa: BLE001 - slow, down, refused, disconnected: the caller is waiting
        log.warning("calendar free/busy unavailable: answering without it",
                    extra={"tenant_id": tenant_id, "error": type(exc).__name__})
    if cached and now - cached["fetched_at"] < STALE_FOR:
        return Busy(_loaded(cached), "stale_cache")
    return Busy([], "own_bookings")
