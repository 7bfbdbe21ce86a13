"""Twilio's transcription of a voicemail (``<Record transcribe="true" transcribeCallback=...>``),
posted to ``voice_status?event=transcription&t=<tenant>`` (signed like every Twilio webhook:
``shared.webhooks.twilio`` verifies it before this runs).

Rules this module keeps:

* The text goes on the call record as ``voicemail_transcript`` = ``{sid, status, text,
  recording_sid, at}``, with the listing fields (``shared.voice.listing``: the words become
  searchable) in the same transaction.
* Idempotent: a repeated callback for the same ``TranscriptionSid`` changes nothing; a failed
  transcription is recorded as such (``status: failed``, no text) so the email stops waiting.
* Twilio only transcribes ``<Record>`` messages of up to two minutes: longer ones never get a
  callback, and the voicemail email goes without text after ``TRANSCRIPT_WAIT``.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import Field

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.base import Model
from shared.ports import Ports
from shared.tenants import TenantScope, UnknownTenant
from shared.voice.calls import call_path
from shared.voice.listing import with_listing
from shared.voice.lookup import tenant_param
from shared.voice.params import ACCOUNT_SID, CALL_SID, RECORDING_SID

log = get_logger("z3.voice.transcription")
MAX_TEXT = 10_000


class TranscriptionParams(Model):
    AccountSid: str = Field(pattern=ACCOUNT_SID)
    CallSid: str = Field(pattern=CALL_SID)
    RecordingSid: str = Field(pattern=RECORDING_SID)
    TranscriptionSid: str = Field(pattern=r"^TR[0-9a-fA-F]{32}$")
    TranscriptionStatus: Literal["completed", "failed", "in-progress"]
    TranscriptionText: str = Field(default="", max_length=MAX_TEXT)


def transcription_callback(ports: Ports, form: Mapping[str, str], query: Mapping[str, str]) -> str:
    params = TranscriptionParams.model_validate(dict(form))
    tenant_id = tenant_param(query)
    if tenant_id is None:
        raise InvalidInput("cannot tell which business the transcription belongs to")
    scope = TenantScope(ports.store(), tenant_id)
    try:
        scope.tenant()
    except UnknownTenant:
        return "ignored: unknown business"
    if params.TranscriptionStatus == "in-progress":
        return "transcription in progress"
    now = ports.clock().now()
    path = call_path(params.CallSid)
    text = params.TranscriptionText.strip() if params.TranscriptionStatus == "completed" else None

    def store(tx) -> bool:
        doc = tx.get(path)
        held: dict[str, Any] = (doc or {}).get("voicemail_transcript") or {}
        if held.get("sid") == params.TranscriptionSid:
            return False
        patch: dict[str, Any] = {"voicemail_transcript": {
            "sid": params.TranscriptionSid, "status": params.TranscriptionStatus, "text": text,
            "recording_sid": params.RecordingSid, "at": now}}
        if doc is None:
            patch.update(call_sid=params.CallSid, created_at=now)
        tx.set(path, with_listing(doc, patch), merge=True)
        return True

    stored = scope.transaction(store)
    log.info("voicemail transcription", extra={"tenant_id": tenant_id, "call_sid": params.CallSid,
                                               "status": params.TranscriptionStatus, "stored": stored,
                                               "chars": len(text or "")})
    return f"transcription {'stored' if stored else 'duplicate'}"
