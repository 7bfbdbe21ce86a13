"""Twilio's voice webhook parameters as typed models (what a signed request must carry), and
the task message of ``recording_ingest``.

Twilio posts form parameters with its own CamelCase names; the models keep them so a reader can
match them against Twilio's documentation. A missing or malformed id is a 400 (through
``shared.http``); numbers are kept raw here and interpreted by the rules.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any, Mapping

from pydantic import Field

from shared.models.base import Message, Model

CALL_SID = r"^CA[0-9a-fA-F]{32}$"
ACCOUNT_SID = r"^AC[0-9a-fA-F]{32}$"
RECORDING_SID = r"^RE[0-9a-fA-F]{32}$"


class CallParams(Model):
    """Sent with every voice webhook (Voice URL, Gather/Dial/Record actions, status callbacks)."""

    CallSid: str = Field(pattern=CALL_SID)
    AccountSid: str = Field(pattern=ACCOUNT_SID)
    From: str = Field(default="", max_length=64)
    To: str = Field(default="", max_length=64)
    CallStatus: str | None = Field(default=None, max_length=32)
    Direction: str | None = Field(default=None, max_length=32)
    ForwardedFrom: str | None = Field(default=None, max_length=64)
    CallerName: str | None = Field(default=None, max_length=200)

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> "CallParams":
        return cls.model_validate(dict(form))


class GatherParams(CallParams):
    Digits: str | None = Field(default=None, max_length=32)
    SpeechResult: str | None = Field(default=None, max_length=2000)
    Confidence: float | None = None


class DialParams(CallParams):
    DialCallStatus: str | None = Field(default=None, max_length=32)
    DialCallSid: str | None = Field(default=None, max_length=64)
    DialCallDuration: int | None = None


class StatusParams(CallParams):
    CallStatus: str = Field(max_length=32)
    CallDuration: int | None = Field(default=None, ge=0)
    Timestamp: str | None = Field(default=None, max_length=64)
    AnsweredBy: str | None = Field(default=None, max_length=32)
    ParentCallSid: str | None = Field(default=None, pattern=CALL_SID)
    SequenceNumber: int | None = None

    def at(self, fallback: dt.datetime) -> dt.datetime:
        """When Twilio says the status changed (RFC 2822 ``Timestamp``), else ``fallback``."""
        if self.Timestamp:
            try:
                parsed = email.utils.parsedate_to_datetime(self.Timestamp)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(dt.timezone.utc)
        return fallback


class RecordingParams(Model):
    """A recording status callback (``recordingStatusCallback`` of ``<Record>`` / ``<Dial>``)."""

    AccountSid: str = Field(pattern=ACCOUNT_SID)
    CallSid: str = Field(pattern=CALL_SID)
    RecordingSid: str = Field(pattern=RECORDING_SID)
    RecordingUrl: str = Field(default="", max_length=500)
    RecordingStatus: str = Field(max_length=32)
    RecordingDuration: int | None = None  # seconds; -1 while in progress
    RecordingChannels: int | None = None
    RecordingSource: str | None = Field(default=None, max_length=64)
    ErrorCode: str | None = None

    @classmethod
    def parse(cls, form: Mapping[str, Any]) -> "RecordingParams":
        return cls.model_validate(dict(form))


class IngestRequest(Message):
    """The ``recording_ingest`` task: copy one Twilio recording into our storage."""

    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    call_sid: str = Field(pattern=CALL_SID)
    recording_sid: str = Field(pattern=RECORDING_SID)
    recording_url: str = Field(default="", max_length=500)
    duration: float | None = Field(default=None, ge=0)

    @property
    def task_name(self) -> str:
        return ingest_task_name(self.recording_sid)


def ingest_task_name(recording_sid: str) -> str:
    """Named after the RecordingSid: a repeated callback enqueues nothing new."""
    return f"recording-{recording_sid}"
