"""Connecting a business's Google Calendar and talking to it with a valid token.

* :func:`start` -- the consent URL (offline access, PKCE; the verifier rides in our single-use
  state document, never in the URL), optionally naming the calendar to use (default: primary);
* :func:`complete` -- registered in ``shared.integrations.callback``: exchanges the code, reads
  the chosen calendar, stores the tokens encrypted (``connections.save_connection``) with the
  calendar id in ``details.calendar_id``; ``account_id`` is a hash of the calendar id (the global
  account index holds ids only, and a primary calendar's id is the owner's address);
* :func:`call` -- ``fn(calendar, calendar_id)`` with a valid access token, once more after a 401;
* :func:`disconnect` -- revoke at Google, delete the tokens, audit who.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Mapping, TypeVar

from shared.integrations import connections
from shared.integrations.connections import GrantRevoked, IntegrationError, PendingFlow, Tokens
from shared.ports import Ports
from shared.providers import google_calendar as google

PROVIDER = "google_calendar"
T = TypeVar("T")


WRITABLE = ("owner", "writer")  # calendarList accessRole values that may insert events


class CalendarNotUsable(IntegrationError):
    """The calendar asked for is not this account's, or it may not add events to it."""

    why = "calendar"  # what oauth_callback tells Settings (shared.integrations.callback.failure_url)


def start(ports: Ports, *, tenant_id: str, user_id: str | None, binding: str, calendar_id: str | None = None) -> str:
    if calendar_id is not None and not (0 < len(calendar_id) <= 254):
        raise IntegrationError("calendar id must be 1-254 characters")
    verifier = google.new_code_verifier()
    state = connections.start_flow(ports, tenant_id=tenant_id, provider=PROVIDER, user_id=user_id, binding=binding,
                                   extra={"code_verifier": verifier, "calendar_id": calendar_id})
    return google.authorize_url(ports.settings, state, verifier)


def _tokens(ports: Ports, answer: dict[str, Any], refresh_token: str) -> Tokens:
    return Tokens(answer["access_token"], refresh_token, google.expiry(ports.clock().now(), answer["expires_in"]))


def account_of(calendar_id: str) -> str:
    return hashlib.sha256(calendar_id.encode()).hexdigest()[:32]


def complete(ports: Ports, flow: PendingFlow, args: Mapping[str, str]) -> dict[str, Any]:
    code = args.get("code")
    if not code or len(code) > 512:
        raise IntegrationError("the callback needs a code")
    try:
        answer = google.exchange_code(ports.settings, code, flow.extra.get("code_verifier") or "")
    except google.GrantRefused:
        raise IntegrationError("Google refused the authorization code; connect again") from None
    tokens = _tokens(ports, answer, answer["refresh_token"])
    calendar = google.Calendar(ports.settings, tokens.access_token)
    wanted = flow.extra.get("calendar_id")
    try:
        chosen = calendar.calendar(wanted) if wanted else calendar.primary()
    except google.GoogleError:
        raise CalendarNotUsable("that calendar is not one this Google account can use") from None
    if chosen.get("accessRole") not in WRITABLE:  # bookings could never be written to it
        raise CalendarNotUsable("this Google account may not add events to that calendar; choose one it owns "
                                "or may edit")
    return connections.save_connection(ports, flow, tokens, account_id=account_of(chosen["id"]),
                                       details={"calendar_id": chosen["id"], "calendar_name": chosen["summary"]})


def _refresh(ports: Ports, timeout: float) -> Callable[[Tokens], Tokens]:
    def refresh(old: Tokens) -> Tokens:
        try:
            answer = google.refresh(ports.settings, old.refresh_token, timeout=timeout)
        except google.GrantRefused:
            raise GrantRevoked() from None
        return _tokens(ports, answer, old.refresh_token)

    return refresh


def calendar_id(data: dict[str, Any]) -> str:
    return (data.get("details") or {}).get("calendar_id") or "primary"


def call(ports: Ports, tenant_id: str, fn: Callable[[google.Calendar, str], T], *,
         timeout: float = google.TIMEOUT_SECONDS) -> T:
    """``fn(calendar, calendar_id)`` with the tenant's token (``NotConnected`` when it is not
    connected), once more with a refreshed token when Google answers 401."""
    data = connections.live(ports, tenant_id, PROVIDER)
    for force in (False, True):
        token = connections.access_token(ports, tenant_id, PROVIDER, refresh=_refresh(ports, timeout), force=force)
        try:
            return fn(google.Calendar(ports.settings, token), calendar_id(data))
        except google.GoogleError as exc:
            if not exc.unauthorized or force:
                raise
    raise AssertionError("unreachable")


def disconnect(ports: Ports, tenant_id: str, *, actor_user_id: str | None, reason: str = "settings") -> bool:
    """Revoke the grant at Google (down -> raises, nothing deleted), then delete the tokens."""
    return connections.disconnect(ports, tenant_id, PROVIDER, actor_user_id=actor_user_id, reason=reason,
                                  revoke=lambda tokens: google.revoke(ports.settings, tokens.refresh_token))
