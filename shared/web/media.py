"""Where the dashboard's recording player and download link point.

In production the blob store signs a GCS V4 URL (``BlobStore.signed_url``): the browser reads
the private bucket directly, with HTTP Range, for :data:`recording_links.LIFETIME`, and the app
never streams audio. Where the store has no URLs of its own (local files) the link is the app's
HMAC-signed route (``/calls/<sid>/recordings/<rid>/audio``), which also answers Range. Either
way the link is made only for a member allowed ``calls.recordings.play`` and names ids only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import url_for

from shared.voice import recording_links
from shared.voice.calls import RecordingEntry
from shared.web import auth


@dataclass(frozen=True)
class RecordingUrls:
    play: str
    download: str
    expires_at: dt.datetime


def recording_urls(tenant_id: str, call_sid: str, recording: RecordingEntry, *, external: bool = False) -> RecordingUrls:
    ports, now = auth.ports(), auth.now()
    expires_at = now + recording_links.LIFETIME
    filename = f"{call_sid}-{recording.recording_sid}.{recording.blob_path.rsplit('.', 1)[-1]}"
    kind = recording_links.content_type(recording)
    blobs = ports.blobs()
    play = blobs.signed_url(recording.blob_path, expires=recording_links.LIFETIME, content_type=kind)
    if play is not None:
        download = blobs.signed_url(recording.blob_path, expires=recording_links.LIFETIME, content_type=kind,
                                    download_as=filename)
        return RecordingUrls(play, download or play, expires_at)
    signed = recording_links.sign(ports.settings.secret("z3_media_signing_key"), tenant_id, call_sid,
                                  recording.recording_sid, now)
    route = {"call_sid": call_sid, "recording_sid": recording.recording_sid, **signed}
    return RecordingUrls(url_for("calls.audio", **route, _external=external),
                         url_for("calls.audio", **route, download="1", _external=external), expires_at)


def media_origin(ports) -> str | None:
    """The origin the player reads recordings from when it is not the app (the CSP's media-src)."""
    settings = ports.settings
    if settings.backend != "gcp":
        return None
    parts = urlsplit(settings.storage_emulator_endpoint or "https://storage.googleapis.com")
    return f"{parts.scheme}://{parts.netloc}"
