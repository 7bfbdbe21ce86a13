"""The Flask application of the ``app`` function, built once per instance.

Areas are blueprints: ``pages.auth`` (sign-up, sign-in, verification, reset, unlock),
``pages.account`` (own security: 2FA, password, sessions), ``pages.team``, ``pages.audit``,
``pages.home``, and the JSON API (``shared.web.api``). Every request: the principal is loaded
(one session read), state-changing cookie requests are CSRF-checked, and every response gets
the security headers.
"""

from __future__ import annotations

import io
from typing import Callable

from flask import Flask, abort, g, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from shared.runtime import Ports
from shared.web import assets, auth, errors, media, security


def create_app(ports: Callable[[], Ports]) -> Flask:
    app = Flask(__name__, static_folder=None, template_folder="templates")
    app.config["Z3_PORTS"] = ports
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.jinja_env.globals["static_url"] = lambda name: f"{request.script_root}/assets/{assets.hashed_name(name)}"
    app.jinja_env.globals["csrf_token"] = csrf_token_for_form

    @app.before_request
    def before() -> None:
        g.is_static = request.path.startswith("/assets/")
        if g.is_static:
            return
        auth.load_principal()
        # An API call with neither a token nor a session can do nothing (401), so no CSRF check.
        signed_out_api = errors.is_api() and g.principal is None
        if request.method not in security.SAFE_METHODS and auth.bearer_token() is None and not signed_out_api:
            provided = request.headers.get(security.CSRF_HEADER)
            if provided is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                provided = request.form.get(security.CSRF_FIELD)
            security.check_csrf(expected_csrf(), provided)

    @app.after_request
    def after(response):
        token = g.get("new_anon_csrf")
        if token:
            response.set_cookie(auth.ANON_CSRF_COOKIE, token, max_age=3600, **auth.cookie_options())
        ports = auth.ports()
        security.apply_headers(response, local=ports.settings.development, static=g.get("is_static", False),
                               media_origin=media.media_origin(ports), form_action=g.get("csp_form_action", ()))
        return response

    # /assets, not /static: functions-framework's own Flask app answers /static itself.
    @app.get("/assets/<path:name>")
    def static_file(name: str):
        path = assets.file_for(name)
        if path is None:
            abort(404)
        return send_file(path, max_age=31536000, etag=False, conditional=False)

    errors.register(app)
    from shared.web.pages import register as register_pages
    from shared.web import api

    register_pages(app)
    api.register(app)
    return app


PREFIX = "/app"


def serve(app: Flask, outer) -> object:
    """Answer one request of functions-framework (``outer``) with ``app``.

    Behind the load balancer the path arrives as ``/app/...``; on ``scripts/dev`` the mount has
    already moved ``/app`` into SCRIPT_NAME: both reach the same routes, and the links the pages
    make carry ``/app``. The body is read once, at most 1 MiB (413 past it), and handed to the
    app as its own stream (functions-framework reads the outer one again after the response)."""
    from shared.http import MAX_BODY_BYTES

    outer.max_content_length = MAX_BODY_BYTES
    try:
        body = outer.get_data(cache=True)
    except RequestEntityTooLarge:
        outer._cached_data = b""  # noqa: SLF001 - werkzeug's cache of get_data()
        return {"error": {"code": "too_large", "message": f"body larger than {MAX_BODY_BYTES} bytes"}}, 413
    environ = dict(outer.environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    path = environ.get("PATH_INFO", "")
    if not environ.get("SCRIPT_NAME") and (path == PREFIX or path.startswith(PREFIX + "/")):
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = PREFIX, path[len(PREFIX):] or "/"
    with app.request_context(environ):
        return app.full_dispatch_request()


def expected_csrf() -> str | None:
    session = g.get("session")
    if session is not None:
        return session.csrf
    return request.cookies.get(auth.ANON_CSRF_COOKIE)


def csrf_token_for_form() -> str:
    """The token a form on this page must post back (and, signed out, the cookie it pairs with)."""
    token = expected_csrf() or g.get("new_anon_csrf")
    if not token:
        token = g.new_anon_csrf = security.new_token()
    return token

