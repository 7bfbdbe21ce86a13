"""Which Retell ``recording_url`` we fetch (``retell_webhook`` before queueing the copy, and
``retell_recording_copy`` on every hop it follows).

Rules: https only, on a host of ``RETELL_RECORDING_HOSTS`` (exact host names: Retell serves
recordings from its CloudFront distribution ``dxc03zgurdly9.cloudfront.net``; its API reference
shows ``retellai.s3.us-west-2.amazonaws.com``), no user info, the default port. Only on the
embedded backend or against the emulators is a loopback host (the audio sandbox, http) also
allowed. Anything else would let whoever controls the event make us fetch an internal address
(the metadata server, a private service) and store what answers as a tenant's recording.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.config import Settings, is_loopback_host


class UnsafeRecordingUrl(ValueError):
    """A recording URL we refuse to fetch; ``reason`` names the rule, never the URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_recording_url(settings: Settings, url: object) -> str:
    """Return ``url`` when it may be fetched, else raise :class:`UnsafeRecordingUrl`."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise UnsafeRecordingUrl("the recording URL is not a URL")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise UnsafeRecordingUrl("the recording URL is not a URL") from None
    if parts.username is not None or parts.password is not None:
        raise UnsafeRecordingUrl("the recording URL carries user info")
    if settings.development and is_loopback_host(host) and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise UnsafeRecordingUrl("the recording URL is not https")
    if port not in (None, 443):
        raise UnsafeRecordingUrl("the recording URL names a port")
    if host not in settings.recording_hosts:
        raise UnsafeRecordingUrl("the recording URL is not on a Retell recording host (RETELL_RECORDING_HOSTS)")
    return url
