"""Who is asking, once per request: ``g.principal`` (or None) and ``g.session``.

* ``Authorization: Bearer <token>`` -> :func:`shared.web.api.bearer.authenticate` (personal API
  tokens), and no cookie is looked at;
* otherwise the session cookie -> :func:`shared.accounts.sessions.load` (one document read).

Handlers call :func:`require` with an action of the permission table; a page without a
principal redirects to sign-in, an API call answers 401.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import current_app, g, request

from shared.accounts import permissions, sessions
from shared.accounts.errors import Unauthenticated
from shared.accounts.principal import Principal
from shared.models.tenant import Role
from shared.runtime import Ports
from shared.web.request_info import ClientInfo, client_info

LOCAL_COOKIE = "z3_session"
PRODUCTION_COOKIE = "__Host-z3_session"  # Secure, Path=/, no Domain: bound to this origin
ANON_CSRF_COOKIE = "z3_csrf"
DEVICE_COOKIE = "z3_device"


def ports() -> Ports:
    return current_app.config["Z3_PORTS"]()


def now():
    return ports().clock().now()


def client() -> ClientInfo:
    info = g.get("client")
    if info is None:
        info = g.client = client_info(request, ports().settings)
    return info


def cookie_name() -> str:
    return LOCAL_COOKIE if ports().settings.development else PRODUCTION_COOKIE


def cookie_options() -> dict[str, Any]:
    secure = not ports().settings.development  # the dev stack (local or emulators) serves plain http
    return {"httponly": True, "secure": secure, "samesite": "Lax", "path": "/"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or ""


def load_principal() -> None:
    """Runs before every request (``before_request``)."""
    g.principal = None
    g.session = None
    token = bearer_token()
    if token is not None:
        from shared.web.api import bearer

        g.principal = bearer.authenticate(ports(), token, now()) if token else None
        return
    session = sessions.load(ports().store(), request.cookies.get(cookie_name()), now())
    g.session = session
    if session is not None and session.stage == "active":
        g.principal = Principal(tenant_id=session.tenant_id, user_id=session.user_id, role=Role(session.role),
                                auth="session", session_id=session.key)


def principal() -> Principal:
    """The signed-in principal, or :class:`Unauthenticated`."""
    found = g.get("principal")
    if found is None:
        raise Unauthenticated("Sign in first.")
    return found


def require(action: str) -> Principal:
    return permissions.require(principal(), action)


def requires(action: str) -> Callable:
    """Decorator: the view runs only for a principal allowed ``action`` (the permission table)."""
    permissions.kind(action)  # an unknown action fails at import, not at request time

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            require(action)
            return view(*args, **kwargs)

        inner.z3_action = action  # type: ignore[attr-defined]
        return inner

    return wrap


def set_session_cookie(response, session: sessions.Session) -> None:
    response.set_cookie(cookie_name(), session.id, max_age=int(sessions.ABSOLUTE.total_seconds()), **cookie_options())


def clear_session_cookie(response) -> None:
    response.delete_cookie(cookie_name(), path="/", secure=not ports().settings.development, httponly=True, samesite="Lax")
