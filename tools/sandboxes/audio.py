"""A loopback host of call recordings: what Retell's ``recording_url`` points at, for tests and
the simulated day (Retell serves its recordings from signed storage URLs, not from its API, so
this is not part of the Retell API sandbox).

``GET /recordings/{name}.wav`` answers a short, valid WAV (silence, 8 kHz mono 16-bit) unless the
host was told otherwise:

* ``host.fail(name, status)`` — answer ``status`` for that recording (``404``/``403`` = an expired
  signed URL, ``500`` = storage trouble);
* ``host.add(name, data, content_type)`` — serve these bytes;
* ``host.redirect(name, location)`` — answer ``302 Location: location`` (signed storage URLs
  may redirect; the copy re-checks every hop).

``host.requests`` lists the paths fetched.
"""

from __future__ import annotations

import io
import threading
import wave

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox


def silent_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of silence (at most 30 s): what the sandboxes serve as a recording."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(rate * max(0.0, min(seconds, 30.0))))
    return buffer.getvalue()


class AudioHost(Sandbox):
    name = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.failures: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []

    def url_for(self, name: str) -> str:
        return f"{self.url}/recordings/{name}.wav"

    def add(self, name: str, data: bytes, content_type: str = "audio/wav") -> str:
        with self._lock:
            self.files[name] = (data, content_type)
        return self.url_for(name) if self.running else f"/recordings/{name}.wav"

    def redirect(self, name: str, location: str) -> None:
        with self._lock:
            self.redirects[name] = location

    def fail(self, name: str, status: int | None) -> None:
        with self._lock:
            if status is None:
                self.failures.pop(name, None)
            else:
                self.failures[name] = status

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request.path)
        if request.method != "GET" or not request.path.startswith("/recordings/") or not request.path.endswith(".wav"):
            return Response("not found", status=404)
        name = request.path[len("/recordings/"):-len(".wav")]
        with self._lock:
            status = self.failures.get(name)
            location = self.redirects.get(name)
        if location is not None:
            return Response("", status=302, headers={"Location": location})
        with self._lock:
            data, content_type = self.files.get(name, (None, "audio/wav"))
        if status is not None:
            return Response("<Error>AccessDenied</Error>", status=status, content_type="application/xml")
        return Response(data if data is not None else silent_wav(), content_type=content_type)
