"""``retell_recording_copy``: copy the Retell recording of an AI-answered call into our storage.

Retell's ``recording_url`` is a signed URL that lives about ten minutes, so ``retell_webhook``
queues this task the moment an event carries it. Steps, each safe to repeat:

1. If the call record already lists ``retell-{call_id}``, done.
2. If the blob is already stored (an earlier attempt crashed after writing it), reuse it; else
   download it and store it at ``tenants/{t}/recordings/{call_sid}/retell-{call_id}.wav``.
   When the URL has expired (403/404/410), ask Retell for the call again: its answer carries a
   fresh URL. A body that is not audio is refused. Every URL fetched, each redirect hop
   included (at most :data:`MAX_REDIRECTS`), must pass ``recording_url.check_recording_url``;
   a body past :data:`MAX_BYTES` (announced or streamed) is abandoned.
3. Add ``{recording_sid: retell-{call_id}, source: retell, ...}`` to the call record.

Any failure raises (the task answers 5xx and Cloud Tasks retries with backoff): an unreachable
provider as :class:`shared.ports.StoreUnavailable` (503). A URL the rules refuse raises
:class:`UnsafeRecordingUrl`: retrying cannot help, so the worker acknowledges it and says why.

Retell's own copy is not deleted here: the call's transcript and analysis stay useful in
Retell's dashboard for the business's agent tuning; erasing it is the privacy deletion's job
(``shared.providers.retell.delete_call``).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.logging import get_logger
from shared.ports import Ports, StoreUnavailable
from shared.tenants import TenantScope, UnknownTenant
from shared.voice.agent_webhook import RecordingCopyTask
from shared.voice.calls import RecordingEntry, add_recording, expire_at, get_call
from shared.voice.recording_url import UnsafeRecordingUrl, check_recording_url

log = get_logger("z3.voice.retell_recording")
MAX_BYTES = 512 * 1024 * 1024  # a 4-hour mono WAV at 16 kHz is ~460 MB
EXPIRED = (401, 403, 404, 410)
MAX_REDIRECTS = 3


class NotAudio(ValueError):
    """The recording URL answered with something that is not a recording."""


class RecordingExpired(Exception):
    """The signed URL no longer works."""


@dataclass(frozen=True)
class CopyResult:
    blob_path: str
    size: int
    sha256: str
    downloaded: bool
    added: bool


def recording_sid(retell_call_id: str) -> str:
    return f"retell-{retell_call_id}"


def blob_path(tenant_id: str, call_sid: str, retell_call_id: str) -> str:
    from shared.voice.ingest import blob_path as layout

    return layout(tenant_id, call_sid, recording_sid(retell_call_id))


def copy_recording(ports: Ports, task: RecordingCopyTask) -> CopyResult | None:
    store = ports.store()
    blobs = ports.blobs()
    scope = TenantScope(store, task.tenant_id)
    try:
        tenant = scope.tenant()
    except UnknownTenant:
        log.warning("retell recording of an unknown business: not copied", extra={"tenant_id": task.tenant_id})
        return None
    sid = recording_sid(task.retell_call_id)
    call = get_call(scope, task.call_sid)
    known = call.recording(sid) if call else None
    if known is not None:
        return CopyResult(known.blob_path, known.size, known.sha256, downloaded=False, added=False)
    path = blob_path(task.tenant_id, task.call_sid, task.retell_call_id)
    info = blobs.stat(path)
    downloaded = info is None
    if info is None:
        try:
            audio, content_type = _download_fresh(ports, task)
        except UnsafeRecordingUrl as exc:
            log.warning("retell recording URL refused: not copied", extra={
                "tenant_id": task.tenant_id, "call_sid": task.call_sid, "retell_call_id": task.retell_call_id,
                "reason": exc.reason})
            raise
        info = blobs.put(path, audio, content_type=content_type)
    now = ports.clock().now()
    entry = RecordingEntry(recording_sid=sid, source="retell", blob_path=path, size=info.size, sha256=info.sha256,
                           duration=(task.duration_ms / 1000) if task.duration_ms else None, stored_at=now)
    added = add_recording(scope, task.call_sid, entry, expire=expire_at(now, tenant.settings.recording_retention_days))
    log.info("retell recording stored", extra={"tenant_id": task.tenant_id, "call_sid": task.call_sid,
                                               "retell_call_id": task.retell_call_id, "size": info.size})
    return CopyResult(path, info.size, info.sha256, downloaded=downloaded, added=added)


def _download_fresh(ports: Ports, task: RecordingCopyTask) -> tuple[bytes, str]:
    try:
        return download(ports.settings, task.recording_url)
    except RecordingExpired:
        fresh = _fresh_url(ports, task.retell_call_id)
        if not fresh or fresh == task.recording_url:
            raise StoreUnavailable("the Retell recording URL expired and Retell has no fresh one") from None
        return download(ports.settings, fresh)


def download(settings, url: str, *, timeout: tuple[float, float] = (5.0, 120.0)) -> tuple[bytes, str]:
    """GET the recording, following at most :data:`MAX_REDIRECTS` redirects, each checked.
    Returns ``(bytes, content_type)``."""
    import requests
    from urllib.parse import urljoin

    try:
        for _hop in range(MAX_REDIRECTS + 1):
            check_recording_url(settings, url)
            with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location") or "")
                    continue
                if response.status_code in EXPIRED:
                    raise RecordingExpired(str(response.status_code))
                if response.status_code >= 300:
                    raise StoreUnavailable(f"recording download failed: HTTP {response.status_code}")
                announced = response.headers.get("Content-Length") or ""
                if announced.isdigit() and int(announced) > MAX_BYTES:
                    raise NotAudio("the recording is larger than any call we take")
                chunks, size = [], 0
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise NotAudio("the recording is larger than any call we take")
                    chunks.append(chunk)
                content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                break
        else:
            raise UnsafeRecordingUrl(f"the recording URL redirects more than {MAX_REDIRECTS} times")
    except requests.RequestException as exc:
        raise StoreUnavailable(f"recording download failed: {type(exc).__name__}") from exc
    data = b"".join(chunks)
    if not data:
        raise NotAudio("empty recording")
    if data[:4] == b"RIFF":
        return data, "audio/wav"
    if content_type.startswith("audio/"):
        return data, content_type
    raise NotAudio("the recording URL did not answer with audio")


def _fresh_url(ports: Ports, retell_call_id: str) -> str | None:
    """Retell's get-call answers with a newly signed recording URL."""
    from shared.providers import retell as provider

    try:
        import retell

        call = provider.client(ports.settings).call.retrieve(retell_call_id, timeout=10.0)
    except retell.NotFoundError:
        return None
    except retell.APIError as exc:
        raise StoreUnavailable(f"Retell get-call failed: {type(exc).__name__}") from exc
    return getattr(call, "recording_url", None)
