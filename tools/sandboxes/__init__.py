"""Loopback sandboxes: small WSGI apps that speak a provider's wire format, so the provider's real
SDK client can be pointed at them through ordinary configuration (a base URL / endpoint setting).

Every sandbox subclasses :class:`Sandbox` and implements :meth:`Sandbox.handle`. A sandbox can run
on its own loopback port in a daemon thread (tests)::

    with KmsSandbox() as kms:            # or: kms = KmsSandbox().start(); ...; kms.stop()
        settings = Settings(..., Z3_KMS_ENDPOINT=kms.url)

or be mounted under a dispatcher next to others (the dev stack mounts ``sandbox.wsgi_app`` at
``/_sandbox/<name>``; see ``registry.py``). Requests are not logged line by line; handler
exceptions are logged and answered 500.

After ``stop()`` a client sees the sandbox as gone (connection refused), exactly as a stopped
service: werkzeug's server closes every connection after its response (no keep-alive), so no
lingering connection thread keeps answering.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Iterable, Self

from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("z3.sandbox")


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


class Sandbox:
    """Base of the loopback sandboxes: a WSGI app plus start/stop on a free loopback port."""

    name = "sandbox"

    def __init__(self) -> None:
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port: int | None = None

    # --- the app ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request. Subclasses implement this."""
        raise NotImplementedError

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.handle(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        except Exception:
            log.exception("%s sandbox: unhandled error on %s %s", self.name, request.method, request.path)
            response = self.internal_error(request)
        return response(environ, start_response)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def internal_error(self, request: Request) -> Response:
        """The answer to a handler bug; subclasses may shape it like the provider's errors."""
        return self.json({"error": "sandbox internal error"}, status=500)

    @staticmethod
    def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(data), status=status, headers=headers, content_type="application/json; charset=UTF-8")

    # --- serving ----------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Self:
        """Serve on ``host:port`` (0 = a free port) in a daemon thread; returns ``self``."""
        with self._state_lock:
            if self._server is not None:
                raise RuntimeError(f"{self.name} sandbox is already running at {self.url}")
            server = make_server(host, port, self.wsgi_app, threaded=True, request_handler=_QuietHandler)
            self._server = server
            self.host = host
            self.port = server.server_port
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"sandbox-{self.name}-{self.port}", daemon=True)
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self.name} sandbox has not been started")
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving. Idempotent; ``start(port=...)`` may follow (same port, same state)."""
        with self._state_lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
