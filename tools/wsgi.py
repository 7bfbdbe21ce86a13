"""Serving WSGI apps on loopback in a background thread, and mounting functions side by side.

Used by the dev stack (every function under ``/<name>``), the provider sandboxes and the tests.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Callable

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from shared.webhooks.invoker import PUSH_TOKEN_PARAM

REPO = Path(__file__).resolve().parent.parent
_PUSH_TOKEN = re.compile(rf"({PUSH_TOKEN_PARAM}=)[^&\s\"]+")
_SANDBOX_QUERY = re.compile(r"( /_sandbox/[^?\s\"]*)\?[^\s\"]*")


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's request log line, without the push token of an emulated push endpoint
    (a credential: ``shared.webhooks.invoker``) that a request line would otherwise carry, and
    without the query string of a request to a provider sandbox: it holds what our code asks the
    provider (a QuickBooks query names the customer it looks for), which the real provider keeps
    and our logs must not."""

    def log(self, type: str, message: str, *args: Any) -> None:
        message = _PUSH_TOKEN.sub(r"\1[redacted]", message % args if args else message)
        message = _SANDBOX_QUERY.sub(r"\1?[query omitted]", message)
        super().log(type, "%s", message)


class ServerThread:
    """A threaded werkzeug server on 127.0.0.1 (port 0 = a free one)."""

    def __init__(self, app: Callable[..., Any], port: int = 0, host: str = "127.0.0.1") -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_RequestHandler)
        self.host = host
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"wsgi-{self.port}", daemon=True)

    def start(self) -> "ServerThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def function_names(functions_dir: Path = REPO / "functions") -> list[str]:
    return sorted(p.parent.name for p in functions_dir.glob("*/main.py"))


def function_app(name: str, functions_dir: Path = REPO / "functions"):
    """functions-framework's own app for one function, exactly as Cloud Functions builds it."""
    import functions_framework

    return functions_framework.create_app(target=name, source=str(functions_dir / name / "main.py"))


def _root_path(app: Callable[..., Any]) -> Callable[..., Any]:
    """A POST to ``/<name>`` reaches the mounted app with an empty PATH_INFO, which Flask answers
    with a 308 to ``/<name>/``; Pub/Sub push and Cloud Tasks do not follow redirects. Serve the
    mount point itself as ``/``."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not environ.get("PATH_INFO"):
            environ = {**environ, "PATH_INFO": "/"}
        return app(environ, start_response)

    return wrapped


def mount(apps: dict[str, Callable[..., Any]]) -> DispatcherMiddleware:
    """``/<name>`` -> app; anything else 404."""
    return DispatcherMiddleware(NotFound(), {f"/{name}": _root_path(app) for name, app in apps.items()})
