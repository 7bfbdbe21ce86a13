"""The call page's recording player on both backends: on GCS (the emulator) it points at a V4
signed URL of the private bucket, the page's CSP lets the player read that origin, and the URL
answers Range requests; locally it points at the app's HMAC-signed route, which answers Range
too. Opening the call marks its recording played (the voicemail inbox's New)."""

from __future__ import annotations

import html
import re

import requests

from shared import runtime
from shared.tenants import TenantScope
from shared.web.app import create_app
from tests.functions.app.conftest import make_business, sign_in

AUDIO = b"RIFF" + bytes(range(256)) * 16


def test_the_player_reads_the_recording_with_range_on_either_backend(backend, marker):
    ports = backend.ports
    runtime.use(ports)
    try:
        business = make_business(ports, email=f"owner-{marker}@sunrise.example")
        scope = TenantScope(ports.store(), business.tenant_id)
        path = f"recordings/{business.tenant_id}/CA{marker}/RE1.wav"
        info = ports.blobs().put(path, AUDIO, content_type="audio/wav")
        now = ports.clock().now()
        scope.set(f"calls/CA{marker}", {
            "call_sid": f"CA{marker}", "route": "voicemail", "status": "completed", "created_at": now,
            "recordings": [{"recording_sid": "RE1", "source": "twilio", "blob_path": path, "size": info.size,
                            "sha256": info.sha256, "duration": 3.0, "stored_at": now}]})
        client = create_app(runtime.current).test_client()
        assert sign_in(client, business.owner_email).status_code in (302, 303)
        page = client.get(f"/calls/CA{marker}")
        assert page.status_code == 200
        src = html.unescape(re.search(r'<audio [^>]*src="([^"]+)"', page.text).group(1))
        download = html.unescape(re.search(r'<a href="([^"]+)">Download</a>', page.text).group(1))
        csp = page.headers["Content-Security-Policy"]
        if backend.name == "gcp":
            host = ports.settings.storage_emulator_host
            origin = host if "://" in host else f"http://{host}"
            assert src.startswith(f"{origin}/") and "X-Goog-Signature=" in src and "X-Goog-Expires=300" in src
            assert f"media-src 'self' {origin};" in csp
            assert "response-content-disposition=attachment" in download
            part = requests.get(src, headers={"Range": "bytes=0-3"}, timeout=10)
        else:
            assert src.startswith(f"/calls/CA{marker}/recordings/RE1/audio?") and "sig=" in src
            assert "media-src" not in csp
            assert download.endswith("&download=1")
            part = client.get(src, headers={"Range": "bytes=0-3"})
        assert part.status_code == 206 and (part.content if hasattr(part, "content") else part.data) == b"RIFF"
        assert scope.get(f"calls/CA{marker}").get("played_at") is not None
    finally:
        runtime.reset()
