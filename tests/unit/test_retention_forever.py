"""A business that keeps recordings and transcripts "until deleted" (the settings page's
forever: ``None``) has nothing of its calls swept, however old; a number of days still applies."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from shared.retention.policy import CallRetention

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
OLD_CALL = {"created_at": NOW - dt.timedelta(days=3650), "recordings": [{"blob_path": "x"}], "transcript": "hi"}


def test_forever_keeps_every_call():
    rules = CallRetention.of(SimpleNamespace(recording_retention_days=None, transcript_retention_days=None))
    assert rules.first is None
    assert rules.step(OLD_CALL, NOW) == "none"


def test_forever_recordings_with_a_transcript_limit_clears_only_the_transcript():
    rules = CallRetention.of(SimpleNamespace(recording_retention_days=None, transcript_retention_days=30))
    assert rules.first == dt.timedelta(days=30)
    assert rules.step(OLD_CALL, NOW) == "transcript"
