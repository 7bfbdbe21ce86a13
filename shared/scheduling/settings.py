"""When a business takes appointments (``tenant.settings.scheduling``). A pure model, no I/O.

Decisions where the issue is silent:

* **Windows** are wall-clock ranges in the tenant's time zone, per weekday; a window never runs
  past midnight (appointments are daytime business). Slots start at the window's start and
  follow each other every ``slot_minutes + buffer_minutes``; a slot must end inside its window.
* **Buffer** is the gap kept free after (and before) every appointment: a slot is unavailable
  when an appointment overlaps it widened by the buffer on both sides.
* **Lead time**: no slot starts sooner than ``lead_minutes`` from now (nobody can be at the
  door in ten minutes). **Horizon**: slots are offered for today and the next
  ``horizon_days - 1`` days (local dates).
* **Closed dates** (local dates) offer no slot; the business's voice-settings holidays are
  added to them by the service.
* Defaults: Monday to Friday 9:00 to 17:00, one-hour slots, no buffer, two hours' notice, two
  weeks ahead — what a small trades or services business would pick first.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, field_validator, model_validator

from shared.models.base import Model

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Stored as strings ("09:30", "2026-12-25"): documents hold JSON types and datetimes only.
WallTime = Annotated[dt.time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]
LocalDate = Annotated[dt.date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


class Window(Model):
    """A wall-clock range on one day, ``start`` < ``end``."""

    start: WallTime
    end: WallTime

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end <= self.start:
            raise ValueError("an availability window must end after it starts (on the same day)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times in the business's time zone (no offset)")
        return self


def _default_windows() -> dict[str, list[Window]]:
    return {day: [Window(start=dt.time(9), end=dt.time(17))] for day in ("mon", "tue", "wed", "thu", "fri")}


class SchedulingSettings(Model):
    """How callers can book appointments. See the module docstring for the rules."""

    enabled: bool = True
    windows: dict[Weekday, list[Window]] = Field(default_factory=_default_windows)
    slot_minutes: int = Field(default=60, ge=5, le=8 * 60)
    buffer_minutes: int = Field(default=0, ge=0, le=4 * 60)
    horizon_days: int = Field(default=14, ge=1, le=366)
    lead_minutes: int = Field(default=120, ge=0, le=14 * 24 * 60)
    closed_dates: list[LocalDate] = Field(default_factory=list)
    appointment_label: str = Field(default="appointment", min_length=1, max_length=60)  # "estimate", "visit"

    @field_validator("windows")
    @classmethod
    def _no_overlap(cls, value: dict[str, list[Window]]) -> dict[str, list[Window]]:
        for day, windows in value.items():
            ordered = sorted(windows, key=lambda w: w.start)
            for a, b in zip(ordered, ordered[1:]):
                if b.start < a.end:
                    raise ValueError(f"availability windows overlap on {day}")
            value[day] = ordered
        return value

    @property
    def slot(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slot_minutes)

    @property
    def step(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slot_minutes + self.buffer_minutes)

    @property
    def buffer(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.buffer_minutes)

    @property
    def lead(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.lead_minutes)
