"""What the retention sweep deletes, and when. Pure: no I/O.

The policy's schedule, per tenant collection:

* ``calls``: the recordings after the tenant's ``recording_retention_days``, the transcript
  (``transcript``, ``summary``, ``extracted_data``) after ``transcript_retention_days``, and the
  call document itself (with its ``call_facts``) once both are past. Computed from the call's
  ``created_at`` and the tenant's *current* setting, so a business that shortens its retention
  sees older calls go at the next sweep;
* ``consent``: a number's whole chain (state, events, sources) 5 years after its latest event
  (``expire_at`` on the state, moved forward by every event: ``shared.consent``);
* every other collection (``messages`` and ``sms_sends``: 1 year; ``emails``: 1 year; ``audit``:
  2 years; ``exports``: 7 days, the archive its ``blob_path`` names first; ...): the documents
  whose ``expire_at`` has passed, as their writers stamped it.
  Documents without ``expire_at`` (contacts, appointments, users, settings: account data) are
  kept while the account is active.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

# collections the generic ``expire_at`` rule leaves to their own rule (or never touches)
SPECIAL = frozenset({"calls", "call_facts", "consent", "holds"})
TRANSCRIPT_FIELDS = ("transcript", "summary", "extracted_data")

CallStep = Literal["delete", "recordings", "transcript", "none"]


@dataclass(frozen=True)
class CallRetention:
    """How long a tenant keeps recordings and transcripts; ``None`` = until deleted (the
    settings page's "forever"): never due."""

    recordings: dt.timedelta | None
    transcripts: dt.timedelta | None

    @classmethod
    def of(cls, settings: Any) -> "CallRetention":
        def days(value: int | None) -> dt.timedelta | None:
            return None if value is None else dt.timedelta(days=value)

        return cls(days(settings.recording_retention_days), days(settings.transcript_retention_days))

    @property
    def first(self) -> dt.timedelta | None:
        """Calls created before ``now - first`` have something due; None: nothing ever is."""
        kept = [d for d in (self.recordings, self.transcripts) if d is not None]
        return min(kept) if kept else None

    def step(self, call: dict[str, Any], now: dt.datetime) -> CallStep:
        created = call.get("created_at")
        if not isinstance(created, dt.datetime):
            return "none"
        recordings_due = self.recordings is not None and created + self.recordings <= now
        transcript_due = self.transcripts is not None and created + self.transcripts <= now
        if recordings_due and transcript_due:
            return "delete"
        if recordings_due and call.get("recordings"):
            return "recordings"
        if transcript_due and any(call.get(name) is not None for name in TRANSCRIPT_FIELDS):
            return "transcript"
        return "none"


def recording_blobs(call: dict[str, Any]) -> list[str]:
    return [r["blob_path"] for r in call.get("recordings") or [] if isinstance(r, dict) and r.get("blob_path")]
