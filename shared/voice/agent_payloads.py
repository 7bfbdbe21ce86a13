"""What Retell sends us: the call object (webhooks and custom-function calls carry the same one)
and how we find our call record from it. Parsing only, no SDK import (``retell`` costs seconds
to import; these functions need none of it).

Resolution order (the data contract in ``shared.voice.calls``): the call's ``metadata``
(``{tenant_id, call_sid}``, set by ``voice_answer`` at registration and signed with the rest of
the body), then the global index ``retell_calls/{call_id}``. The tenant must exist. Anything
else is a call we do not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.models.base import Model, json_value_problem
from shared.ports import DocumentStore

_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

LIFECYCLE_EVENTS = ("call_started", "call_ended", "call_analyzed")
TRANSFER_EVENTS = ("transfer_started", "transfer_bridged", "transfer_cancelled", "transfer_ended")
KNOWN_EVENTS = frozenset(LIFECYCLE_EVENTS + TRANSFER_EVENTS)
# Chat agents' events: they carry a ``chat`` object, no ``call``; acknowledged and ignored.
CHAT_EVENTS = frozenset({"chat_started", "chat_ended", "chat_analyzed"})


class _Loose(Model):
    # allow_inf_nan=False: a cost of ``1e400`` (infinity) is a 400, never a value the stores refuse.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False)


# Retell's times are milliseconds since the epoch; anything outside 1970..9999 is not a time (and
# would overflow the conversion to a datetime). A call lasts at most 2 hours at Retell
# (max_call_duration_ms); a week leaves room without admitting absurd values.
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MAX_DURATION_MS = 7 * 24 * 3600 * 1000
Timestamp = Annotated[int, Field(ge=0, le=MAX_TIMESTAMP_MS)]


class Utterance(_Loose):
    role: str
    content: str = ""


class CallAnalysis(_Loose):
    call_summary: str | None = None
    user_sentiment: str | None = None  # Negative | Positive | Neutral | Unknown
    call_successful: bool | None = None
    in_voicemail: bool | None = None
    custom_analysis_data: dict[str, Any] | None = None

    @field_validator("custom_analysis_data")
    @classmethod
    def _storable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # free-form data the agent extracted: it is stored as is, so it must be storable
        problem = None if value is None else json_value_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class CallCost(_Loose):
    combined_cost: float | None = None  # cents
    total_duration_seconds: float | None = None


class TelephonyIdentifier(_Loose):
    twilio_call_sid: str | None = None


class RetellCall(_Loose):
    """The fields of Retell's call object we use (the SDK's ``PhoneCallResponse``)."""

    call_id: str
    agent_id: str | None = None
    call_status: str | None = None  # registered | not_connected | ongoing | ended | error
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    metadata: dict[str, Any] | None = None
    transcript: str | None = None
    transcript_object: list[Utterance] | None = None
    recording_url: str | None = None
    disconnection_reason: str | None = None
    start_timestamp: Timestamp | None = None  # ms since the epoch
    end_timestamp: Timestamp | None = None
    duration_ms: int | None = Field(default=None, ge=0, le=MAX_DURATION_MS)
    call_cost: CallCost | None = None
    call_analysis: CallAnalysis | None = None
    telephony_identifier: TelephonyIdentifier | None = None
    transfer_destination: str | None = None  # get-call's: where a finished call was transferred

    @field_validator("call_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("invalid call_id")
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else None


class TransferDestination(_Loose):
    """``transfer_destination`` of a transfer event: beside ``call``, not inside it."""

    number: str | None = Field(default=None, max_length=200)  # E.164 or a SIP URI
    extension: str | None = Field(default=None, max_length=40)

    @field_validator("number", "extension", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class RetellEvent(_Loose):
    """A webhook body: ``{"event": ..., "call": {...}}``; transfer events add
    ``transfer_destination`` (``{number, extension}``) and ``transfer_option`` at the top level;
    chat events (:data:`CHAT_EVENTS`) carry a ``chat`` and no ``call``."""

    event: str = Field(min_length=1, max_length=64)
    call: RetellCall | None = None
    transfer_destination: TransferDestination | None = None
    transfer_option: dict[str, Any] | None = None
    timestamp: int | None = Field(default=None, ge=0)  # ms, the event's own time when Retell sends one

    @model_validator(mode="after")
    def _call_required(self) -> "RetellEvent":
        if self.call is None and self.event not in CHAT_EVENTS:
            raise ValueError("call is required")
        return self


class ToolRequest(_Loose):
    """A custom-function call: ``{"name", "args", "call"}``."""

    name: str = Field(min_length=1, max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    call: RetellCall

    @field_validator("args", mode="before")
    @classmethod
    def _args(cls, value: Any) -> Any:
        return {} if value is None else value


@dataclass(frozen=True)
class CallRef:
    tenant_id: str
    call_sid: str
    via: Literal["metadata", "index"]
    tenant_doc: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def tenant(self):
        from shared.models.tenant import Tenant

        return Tenant.from_doc(self.tenant_doc)


def resolve(store: DocumentStore, call: RetellCall) -> CallRef | None:
    """Our call record for a Retell call, or None when we do not know it."""
    ref = _from_metadata(call.metadata) or _from_index(store, call.call_id)
    if ref is None:
        return None
    tenant_doc = store.get(f"tenants/{ref.tenant_id}")
    if tenant_doc is None:
        return None
    return CallRef(ref.tenant_id, ref.call_sid, ref.via, tenant_doc)


def _from_metadata(metadata: dict[str, Any] | None) -> CallRef | None:
    if not metadata:
        return None
    tenant_id, call_sid = metadata.get("tenant_id"), metadata.get("call_sid")
    if isinstance(tenant_id, str) and isinstance(call_sid, str) and _ID.match(tenant_id) and _ID.match(call_sid):
        return CallRef(tenant_id, call_sid, "metadata")
    return None


def _from_index(store: DocumentStore, call_id: str) -> CallRef | None:
    from shared.voice.calls import retell_index_path

    entry = store.get(retell_index_path(call_id))
    if not entry:
        return None
    tenant_id, call_sid = entry.get("tenant_id"), entry.get("call_sid")
    if isinstance(tenant_id, str) and isinstance(call_sid, str) and _ID.match(tenant_id) and _ID.match(call_sid):
        return CallRef(tenant_id, call_sid, "index")
    return None
