"""Response headers every answer of the app carries, and CSRF for cookie-authenticated requests.

* CSP without ``unsafe-inline``: scripts and styles only from our own static files, no
  framing (``frame-ancestors 'none'``), forms only to ourselves (and, on the one page that
  needs it, on to the OAuth providers' consent pages: ``g.csp_form_action``).
* HSTS outside local mode (local runs on plain http).
* ``Cache-Control: no-store`` on everything but the content-hashed static files, which are
  ``immutable``.
* CSRF: every state-changing request authenticated by a cookie carries the token of its
  session (form field ``csrf_token`` or header ``X-CSRF-Token``); before sign-in the token is a
  random cookie of its own (double submit), so the sign-in and sign-up forms are covered too.
  Requests with ``Authorization: Bearer`` carry no cookie authority and need no token.
"""

from __future__ import annotations

import hmac
import secrets

from shared.accounts.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def csp(media_origin: str | None = None, form_action: tuple[str, ...] = ()) -> str:
    """The policy. ``media_origin`` (GCS, where recordings play from signed URLs) joins
    ``media-src`` beside ourselves. ``form_action``: origins a form of this page may end up at
    besides ours (a form's redirect is held to ``form-action`` too): the providers' consent pages
    on Settings → Integrations, whose Connect buttons post to us and are sent on to the provider."""
    policy = CSP
    if media_origin:
        policy = policy.replace("default-src 'self'; ", f"default-src 'self'; media-src 'self' {media_origin}; ", 1)
    if form_action:
        policy = policy.replace("form-action 'self'", " ".join(("form-action 'self'", *form_action)), 1)
    return policy


def apply_headers(response, *, local: bool, static: bool, media_origin: str | None = None,
                  form_action: tuple[str, ...] = ()) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = csp(media_origin, form_action)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Reset, invite and verification links carry tokens in the URL: never send it onward.
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not local:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if static and response.status_code == 200:
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        headers["Cache-Control"] = "no-store"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_csrf(expected: str | None, provided: str | None) -> None:
    """:class:`Forbidden` unless ``provided`` is the expected token."""
    if not expected or not provided or not hmac.compare_digest(expected.encode(), provided.encode()):
        raise Forbidden("The form expired or did not come from this site. Reload the page and try again.")
