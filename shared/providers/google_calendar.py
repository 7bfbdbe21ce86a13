"""Google Calendar: OAuth 2.0 through ``google-auth-oauthlib``'s ``Flow`` (offline access, PKCE),
token refresh through ``google-auth``'s ``Credentials.refresh``, and the Calendar API v3 (JSON)
on ``google-auth``'s ``AuthorizedSession``. There is no Calendar client library in the runtime:
the four calls we make (calendarList, freeBusy, events insert/patch/delete) are plain JSON, and
``google-api-python-client`` would add a discovery document and seconds of import to the cold
start of ``retell_tools``.

Configuration: ``GOOGLE_CLIENT_ID`` / ``GOOGLE_CLIENT_SECRET`` (a "Web application" OAuth client,
redirect URI ``PUBLIC_BASE_URL/oauth_callback``), and the endpoints ``GOOGLE_OAUTH_AUTH_URL``,
``GOOGLE_OAUTH_TOKEN_URL``, ``GOOGLE_OAUTH_REVOKE_URL``, ``GOOGLE_CALENDAR_API_URL`` (unset:
Google's own; the loopback sandbox tools/sandboxes/google.py serves all four).

Failures: Google unreachable, slower than the timeout, 5xx or 429 -> :class:`GoogleUnavailable`
(a ``StoreUnavailable``); 401 -> :class:`GoogleError` with ``unauthorized`` (refresh and retry);
``invalid_grant`` at the token endpoint -> :class:`GrantRefused`; anything else non-2xx ->
:class:`GoogleError` with the status and Google's reason code (never the message).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shared.ports import StoreUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

AUTH_URL = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
CALENDAR_URL = "https://www.googleapis.com/calendar/v3"
# Read the calendars' free/busy and list; create, move and delete our own events.
SCOPES = ["https://www.googleapis.com/auth/calendar.readonly", "https://www.googleapis.com/auth/calendar.events"]
TIMEOUT_SECONDS = 10.0  # off the call path (connect, booking sync); the call path passes its own


class GoogleUnavailable(StoreUnavailable):
    pass


class GoogleError(Exception):
    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(f"google answered {status} {reason}".strip())
        self.status = status
        self.reason = reason

    @property
    def unauthorized(self) -> bool:
        return self.status == 401


class GrantRefused(Exception):
    """The token endpoint answered ``invalid_grant`` (code used or refresh token revoked)."""


def _urls(settings: "Settings") -> dict[str, str]:
    return {"auth": settings.google_oauth_auth_url or AUTH_URL, "token": settings.google_oauth_token_url or TOKEN_URL,
            "revoke": settings.google_oauth_revoke_url or REVOKE_URL,
            "calendar": (settings.google_calendar_api_url or CALENDAR_URL).rstrip("/")}


def authorize_origin(settings: "Settings") -> str:
    """The origin of the consent page (a page that sends the browser there lists it in its CSP
    ``form-action``: a form's redirect is held to it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(_urls(settings)["auth"])
    return f"{parts.scheme}://{parts.netloc}"


def _flow(settings: "Settings", code_verifier: str):
    from google_auth_oauthlib.flow import Flow

    urls = _urls(settings)
    settings.allow_loopback_oauth(urls["token"])
    config = {"web": {"client_id": settings.google_client_id, "client_secret": settings.secret("google_client_secret"),
                      "auth_uri": urls["auth"], "token_uri": urls["token"],
                      "redirect_uris": [settings.function_url("oauth_callback")]}}
    return Flow.from_client_config(config, SCOPES, redirect_uri=settings.function_url("oauth_callback"),
                                   code_verifier=code_verifier, autogenerate_code_verifier=False)


def new_code_verifier() -> str:
    import secrets

    return secrets.token_urlsafe(64)[:96]


def authorize_url(settings: "Settings", state: str, code_verifier: str) -> str:
    """Google's consent page: offline access (a refresh token), consent asked every time (so a
    reconnect gets a refresh token too), PKCE S256 with ``code_verifier``."""
    url, _ = _flow(settings, code_verifier).authorization_url(state=state, access_type="offline", prompt="consent",
                                                              include_granted_scopes="true")
    return url


def expiry(now: dt.datetime, seconds: Any) -> dt.datetime:
    return now + dt.timedelta(seconds=int(seconds))


def exchange_code(settings: "Settings", code: str, code_verifier: str) -> dict[str, Any]:
    """The token answer for an authorization code (``access_token``, ``refresh_token``,
    ``expires_in``)."""
    import requests
    from oauthlib.oauth2 import OAuth2Error

    flow = _flow(settings, code_verifier)
    try:
        token = flow.fetch_token(code=code, timeout=TIMEOUT_SECONDS)
    except OAuth2Error as exc:
        if exc.status_code and exc.status_code >= 500:
            raise GoogleUnavailable(f"google token endpoint answered {exc.status_code}") from None
        raise GrantRefused(exc.error or "refused") from None
    except requests.RequestException:
        raise GoogleUnavailable("google token endpoint unreachable") from None
    if not token.get("refresh_token"):
        raise GrantRefused("no refresh token (offline access not granted)")
    return dict(token)


class _TimedRequest:
    """google-auth's transport Request with a bounded timeout (its default is 120 s)."""

    def __init__(self, timeout: float) -> None:
        from google.auth.transport.requests import Request

        self._request = Request()
        self._timeout = timeout

    def __call__(self, *args: Any, **kwargs: Any):
        kwargs["timeout"] = min(kwargs.get("timeout") or self._timeout, self._timeout)
        return self._request(*args, **kwargs)


def refresh(settings: "Settings", refresh_token: str, *, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """A new access token (``access_token``, ``expires_in``): Google does not rotate refresh tokens."""
    from google.auth import exceptions
    from google.oauth2.credentials import Credentials

    urls = _urls(settings)
    creds = Credentials(token=None, refresh_token=refresh_token, token_uri=urls["token"],
                        client_id=settings.google_client_id, client_secret=settings.secret("google_client_secret"))
    started = dt.datetime.now(dt.timezone.utc)
    try:
        creds.refresh(_TimedRequest(timeout))
    except exceptions.RefreshError as exc:
        if "invalid_grant" in str(exc):
            raise GrantRefused("invalid_grant") from None
        raise GoogleUnavailable("google token refresh failed") from None
    except exceptions.TransportError:
        raise GoogleUnavailable("google token endpoint unreachable") from None
    expires = creds.expiry.replace(tzinfo=dt.timezone.utc) if creds.expiry else started + dt.timedelta(hours=1)
    return {"access_token": creds.token, "expires_in": max(0, int((expires - started).total_seconds()))}


def revoke(settings: "Settings", token: str) -> None:
    import requests

    try:
        response = requests.post(_urls(settings)["revoke"], data={"token": token}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        raise GoogleUnavailable("google revoke unreachable") from None
    if response.status_code >= 500:
        raise GoogleUnavailable(f"google revoke answered {response.status_code}")
    # 400 invalid_token: already revoked (from inside Google) -- nothing left to revoke


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


class Calendar:
    """The Calendar API v3 with one access token (no automatic refresh: the connection store
    refreshes under its lock and the caller retries once on 401)."""

    def __init__(self, settings: "Settings", access_token: str) -> None:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2.credentials import Credentials

        self.base = _urls(settings)["calendar"]
        self.session = AuthorizedSession(Credentials(token=access_token), refresh_status_codes=())

    def _call(self, method: str, path: str, *, timeout: float = TIMEOUT_SECONDS, ok: tuple[int, ...] = (),
              **kwargs: Any) -> dict[str, Any] | None:
        import requests

        try:
            response = self.session.request(method, self.base + path, timeout=timeout, **kwargs)
        except requests.RequestException:
            raise GoogleUnavailable("google calendar unreachable or slow") from None
        if response.status_code in ok:
            return None
        if response.status_code == 429 or response.status_code >= 500:
            raise GoogleUnavailable(f"google calendar answered {response.status_code}")
        if response.status_code >= 400:
            reason = ""
            try:
                errors = response.json().get("error", {}).get("errors") or [{}]
                reason = str(errors[0].get("reason", ""))[:64]
            except ValueError:
                pass
            raise GoogleError(response.status_code, reason)
        return response.json() if response.content else {}

    def primary(self) -> dict[str, Any]:
        """The primary calendar's entry (its id is the owner's address)."""
        return self.calendar("primary")

    def calendar(self, calendar_id: str) -> dict[str, Any]:
        """A calendarList entry: id, summary, timeZone and ``accessRole`` (owner, writer, reader or
        freeBusyReader: only the first two may have events added)."""
        answer = self._call("GET", f"/users/me/calendarList/{quote(calendar_id, safe='')}") or {}
        return {"id": answer["id"], "summary": answer.get("summary", ""), "timeZone": answer.get("timeZone"),
                "accessRole": answer.get("accessRole", "")}

    def busy(self, calendar_id: str, start: dt.datetime, end: dt.datetime, *,
             timeout: float) -> list[tuple[dt.datetime, dt.datetime]]:
        """The calendar's busy intervals between ``start`` and ``end`` (freeBusy.query)."""
        answer = self._call("POST", "/freeBusy", timeout=timeout, json={
            "timeMin": _iso(start), "timeMax": _iso(end), "items": [{"id": calendar_id}]}) or {}
        entry = (answer.get("calendars") or {}).get(calendar_id) or {}
        if entry.get("errors"):
            raise GoogleError(404, str(entry["errors"][0].get("reason", ""))[:64])
        return [(parse_time(b["start"]), parse_time(b["end"])) for b in entry.get("busy", [])]

    def insert(self, calendar_id: str, event: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
        """Create ``event`` (with its own ``id``); an id that exists already (409: a retry) is
        patched to ``event`` instead, so the call is idempotent."""
        path = f"/calendars/{quote(calendar_id, safe='')}/events"
        try:
            return self._call("POST", path, timeout=timeout, json=event) or {}
        except GoogleError as exc:
            if exc.status != 409:
                raise
        return self.patch(calendar_id, event["id"], {k: v for k, v in event.items() if k != "id"}, timeout=timeout)

    def patch(self, calendar_id: str, event_id: str, fields: dict[str, Any], *,
              timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
        path = f"/calendars/{quote(calendar_id, safe='')}/events/{quote(event_id, safe='')}"
        return self._call("PATCH", path, timeout=timeout, json=fields) or {}

    def delete(self, calendar_id: str, event_id: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        """Delete the event; one already gone (404, 410) is fine."""
        path = f"/calendars/{quote(calendar_id, safe='')}/events/{quote(event_id, safe='')}"
        self._call("DELETE", path, timeout=timeout, ok=(404, 410))
