"""``recording_ingest``: copy one Twilio recording into our storage, then erase Twilio's copy.

Steps, each safe to repeat (the task is retried until it succeeds):

1. If the call record already lists the recording, skip to 4.
2. If the blob is already stored (an earlier attempt crashed after writing it), reuse it; else
   download the WAV from Twilio's API with the account's credentials and store it at
   ``tenants/{tenant}/recordings/{call_sid}/{recording_sid}.wav``. A body that is not audio is
   refused (we are about to delete the original).
3. Add ``{recording_sid, source: twilio, blob_path, size, sha256, duration, stored_at}`` to the
   call record (once per recording_sid).
4. Delete Twilio's copy; "already gone" (404) counts as done.

Any failure raises: the task answers 5xx and Cloud Tasks retries with backoff. A provider that
is down raises :class:`shared.ports.StoreUnavailable` (503), anything unexpected a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.logging import get_logger
from shared.ports import Ports
from shared.tenants import TenantScope, UnknownTenant
from shared.voice.calls import RecordingEntry, add_recording, expire_at, get_call
from shared.voice.params import IngestRequest

log = get_logger("z3.voice.ingest")


class NotAudio(ValueError):
    """Twilio answered the media request with something that is not a recording."""


@dataclass(frozen=True)
class IngestResult:
    blob_path: str
    size: int
    sha256: str
    downloaded: bool  # False when an earlier attempt had stored it
    added: bool  # False when the call record already listed it


def blob_path(tenant_id: str, call_sid: str, recording_sid: str) -> str:
    return f"tenants/{tenant_id}/recordings/{call_sid}/{recording_sid}.wav"


def ingest_recording(ports: Ports, request: IngestRequest) -> IngestResult | None:
    store = ports.store()
    blobs = ports.blobs()
    scope = TenantScope(store, request.tenant_id)
    path = blob_path(request.tenant_id, request.call_sid, request.recording_sid)
    try:
        tenant = scope.tenant()
    except UnknownTenant:
        # The business is gone (its data erased): keep nothing, and erase the provider's copy too.
        log.warning("recording of an unknown business: deleting Twilio's copy",
                    extra={"tenant_id": request.tenant_id, "recording_sid": request.recording_sid})
        delete_from_twilio(ports, request.recording_sid)
        return None
    call = get_call(scope, request.call_sid)
    known = call.recording(request.recording_sid) if call else None
    if known is not None:
        delete_from_twilio(ports, request.recording_sid)
        return IngestResult(known.blob_path, known.size, known.sha256, downloaded=False, added=False)

    info = blobs.stat(path)
    downloaded = info is None
    if info is None:
        audio = download_from_twilio(ports, request.recording_sid)
        info = blobs.put(path, audio, content_type="audio/wav")
    now = ports.clock().now()
    entry = RecordingEntry(recording_sid=request.recording_sid, source="twilio", blob_path=path, size=info.size,
                           sha256=info.sha256, duration=request.duration, stored_at=now)
    added = add_recording(scope, request.call_sid, entry,
                          expire=expire_at(now, tenant.settings.recording_retention_days))
    log.info("recording stored", extra={"tenant_id": request.tenant_id, "call_sid": request.call_sid,
                                        "recording_sid": request.recording_sid, "size": info.size})
    delete_from_twilio(ports, request.recording_sid)
    return IngestResult(path, info.size, info.sha256, downloaded=downloaded, added=added)


# --- Twilio -------------------------------------------------------------------------------------

def download_from_twilio(ports: Ports, recording_sid: str) -> bytes:
    """The WAV from Twilio's API (``shared.providers.twilio``: Basic auth, configured base URL;
    a Twilio that is down raises ``TwilioUnavailable``, a 503 that Cloud Tasks retries)."""
    from shared.providers import twilio

    data, content_type = twilio.download_recording(ports.settings, recording_sid, "wav")
    return _check_audio(data, content_type)


def delete_from_twilio(ports: Ports, recording_sid: str) -> None:
    from shared.providers import twilio

    twilio.delete_recording(ports.settings, recording_sid)


def _check_audio(data: bytes, content_type: str | None) -> bytes:
    if not data:
        raise NotAudio("empty recording")
    if data[:4] != b"RIFF" and not (content_type or "").startswith("audio/"):
        raise NotAudio("the media answer is not audio")
    return data

