"""Helpers the page blueprints share: the client as the services see it, session start."""

from __future__ import annotations

import secrets

from flask import g, request

from shared.accounts import sessions
from shared.accounts.signin import Client
from shared.web import auth

DEVICE_MAX_AGE = 400 * 24 * 3600


def signin_client() -> Client:
    info = auth.client()
    return Client(ip=info.ip, ip_prefix=info.ip_prefix, user_agent=info.user_agent,
                  device_id=request.cookies.get(auth.DEVICE_COOKIE) or g.get("new_device_id"))


def external(path: str) -> str:
    """An absolute link for an email, ``path`` inside the app (``/password/reset``):
    PUBLIC_BASE_URL/app/... (never the request's own host, which a client can set)."""
    return auth.ports().settings.function_url("app") + path


def start_session(response, account, *, stage: str = "active", mfa: bool = False, previous=None):
    """A new session id for this sign-in (never one the browser brought along) and the cookies."""
    store, now = auth.ports().store(), auth.now()
    if previous is not None:
        sessions.end_by_key(store, previous.key)
    info = auth.client()
    session = sessions.create(store, now, tenant_id=account.tenant_id, user_id=account.user_id, role=account.role,
                              ip_prefix=info.ip_prefix, user_agent=info.user_agent, stage=stage, mfa=mfa)
    auth.set_session_cookie(response, session)
    ensure_device_cookie(response)
    return session


def ensure_device_cookie(response) -> None:
    if not request.cookies.get(auth.DEVICE_COOKIE):
        device = g.get("new_device_id") or secrets.token_urlsafe(24)
        response.set_cookie(auth.DEVICE_COOKIE, device, max_age=DEVICE_MAX_AGE, **auth.cookie_options())


def safe_next(value: str | None) -> str:
    """Only a path of this app (no //host, no scheme): never an open redirect."""
    root = request.script_root or ""
    if value and value.startswith(root + "/") and not value.startswith("//") and "\\" not in value \
            and not value.startswith(root + "//"):
        return value
    return root + "/"
