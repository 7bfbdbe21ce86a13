"""Short-lived signed links to a call's recording, for the dashboard's audio player.

Rules this module keeps:

* A link names ids only (call sid, recording sid, expiry: no phone number, no storage path) and
  carries ``sig`` = hex HMAC-SHA256(``Z3_MEDIA_SIGNING_KEY``, "tenant/call/recording/expiry"):
  it is bound to one business and one recording and dies after :data:`LIFETIME`.
* These links serve recordings where the blob store has no URLs of its own (local files): the
  app's route answers HTTP Range requests, and also wants a signed-in member allowed
  ``calls.recordings.play`` (a copied link is useless to anyone else). On GCS the player gets a
  V4 signed URL of the private bucket instead, for the same :data:`LIFETIME`
  (``shared.web.media``): the browser reads Cloud Storage directly and the app streams nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from shared.accounts.errors import Forbidden, InvalidLink, NotFound
from shared.tenants import TenantScope
from shared.voice.calls import RecordingEntry, require_call

LIFETIME = dt.timedelta(minutes=5)
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def signature(key: str, tenant_id: str, call_sid: str, recording_sid: str, expires: int) -> str:
    message = f"{tenant_id}/{call_sid}/{recording_sid}/{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sign(key: str, tenant_id: str, call_sid: str, recording_sid: str, now: dt.datetime) -> dict[str, str]:
    """The query parameters of a link valid for :data:`LIFETIME` from ``now``."""
    expires = int((now + LIFETIME).timestamp())
    return {"exp": str(expires), "sig": signature(key, tenant_id, call_sid, recording_sid, expires)}


def verify(key: str, tenant_id: str, call_sid: str, recording_sid: str, exp: str | None, sig: str | None,
           now: dt.datetime) -> None:
    """:class:`Forbidden` unless the link is this recording's and unaltered, :class:`InvalidLink`
    (410) once it expired."""
    if not exp or not exp.isdigit() or len(exp) > 12 or not sig or len(sig) > 128:
        raise Forbidden("This recording link is not valid.")
    expected = signature(key, tenant_id, call_sid, recording_sid, int(exp))
    if not hmac.compare_digest(expected, sig):
        raise Forbidden("This recording link is not valid.")
    if int(exp) < now.timestamp():
        raise InvalidLink("This recording link has expired: reload the call's page.")


def recording_of(scope: TenantScope, call_sid: str, recording_sid: str) -> RecordingEntry:
    found = require_call(scope, call_sid).recording(recording_sid)
    if found is None:
        raise NotFound("There is no such recording.")
    return found


def content_type(recording: RecordingEntry) -> str:
    return CONTENT_TYPES.get(recording.blob_path.rsplit(".", 1)[-1].lower(), "application/octet-stream")
