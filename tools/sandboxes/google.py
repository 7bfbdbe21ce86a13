"""A loopback Google: OAuth 2.0 (what google-auth-oauthlib's ``Flow`` and google-auth's
``Credentials.refresh`` call) and the Calendar API v3 (JSON), for the real client code pointed
at it by configuration (``GOOGLE_OAUTH_AUTH_URL`` = ``<root>/o/oauth2/auth``,
``GOOGLE_OAUTH_TOKEN_URL`` = ``<root>/token``, ``GOOGLE_OAUTH_REVOKE_URL`` = ``<root>/revoke``,
``GOOGLE_CALENDAR_API_URL`` = ``<root>/calendar/v3``).

OAuth, as Google answers it:

* ``GET /o/oauth2/auth`` -- consent approved at once: a 302 to ``redirect_uri`` with ``code`` and
  ``state`` (:meth:`approve` does the same for a test). ``access_type=offline`` is required for a
  refresh token; PKCE S256 is checked at the token endpoint.
* ``POST /token`` (form, client id/secret in the body or HTTP Basic) -- ``authorization_code``
  (single use, ``code_verifier`` checked) and ``refresh_token`` (Google does not rotate it;
  :attr:`refresh_count` counts refreshes); a revoked or unknown one -> 400 ``invalid_grant``.
* ``POST /revoke`` (form ``token``) -- revokes the grant.

Calendar (``Authorization: Bearer``; unknown token -> 401; a token of another account -> 404):

* ``GET /users/me/calendarList/{id|primary}``;
* ``POST /freeBusy`` (``timeMin``, ``timeMax``, ``items``) -- the busy intervals of each calendar;
* ``POST/GET /calendars/{id}/events`` (insert with a client id: a repeated id -> 409 ``duplicate``;
  list), ``PATCH/DELETE /calendars/{id}/events/{eventId}`` (a deleted one -> 410 ``deleted``).

Controls: :meth:`add_event` (an event the business adds inside Google), :attr:`delay` (seconds
every Calendar call waits: Google slow), :meth:`fail` (the next N calls answer 503).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

ACCESS_SECONDS = 3600


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def _error(status: int, reason: str, message: str = "") -> Response:
    return Sandbox.json({"error": {"code": status, "message": message or reason,
                                   "errors": [{"domain": "calendar", "reason": reason, "message": message or reason}]}},
                        status)


@dataclass
class Account:
    email: str
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {summary, events: {id: event}}


class GoogleSandbox(Sandbox):
    name = "google"

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.accounts: dict[str, Account] = {}
        self._codes: dict[str, tuple[str, str, str, bool]] = {}  # code -> (email, redirect_uri, challenge, offline)
        self._access: dict[str, str] = {}  # access token -> email
        self._refresh: dict[str, str] = {}  # refresh token -> email
        self.refresh_count = 0
        self.delay = 0.0
        self._fail = 0
        self.requests: list[tuple[str, str]] = []

    @classmethod
    def from_settings(cls, settings: Any) -> "GoogleSandbox":
        return cls(settings.google_client_id, settings.secret("google_client_secret"))

    # --- test controls ----------------------------------------------------------------------------

    def account(self, email: str = "owner@example.com") -> Account:
        with self._lock:
            if email not in self.accounts:
                self.accounts[email] = Account(email, {email: {"summary": email, "events": {}}})
            return self.accounts[email]

    def share_calendar(self, email: str, calendar_id: str, summary: str, access_role: str = "reader") -> None:
        """A calendar someone else shared with ``email`` (``reader``: it may not add events)."""
        with self._lock:
            self.account(email).calendars[calendar_id] = {"summary": summary, "events": {}, "access_role": access_role}

    def approve(self, authorize_url: str, *, email: str = "owner@example.com") -> dict[str, str]:
        """What the browser brings back to ``redirect_uri`` after the user allows access."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        self.account(email)
        code = "4/0A" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (email, query["redirect_uri"], query.get("code_challenge", ""),
                                 query.get("access_type") == "offline")
        return {"code": code, "state": query["state"], "scope": query.get("scope", "")}

    def add_event(self, email: str, start: dt.datetime, end: dt.datetime, summary: str = "Busy",
                  calendar_id: str | None = None) -> str:
        with self._lock:
            event_id = secrets.token_hex(8)
            self.account(email).calendars[calendar_id or email]["events"][event_id] = {
                "id": event_id, "summary": summary, "status": "confirmed",
                "start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
            return event_id

    def events(self, email: str, calendar_id: str | None = None) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self.account(email).calendars[calendar_id or email]["events"])

    def fail(self, times: int = 1) -> None:
        with self._lock:
            self._fail = times

    def revoke_all(self, email: str) -> None:
        with self._lock:
            for table in (self._access, self._refresh):
                for token in [t for t, who in table.items() if who == email]:
                    del table[token]

    # --- wire ---------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/o/oauth2/auth":
            query = self.approve(request.url)
            target = request.args["redirect_uri"]
            return Response(status=302, headers={"Location": f"{target}?{urlencode(query)}"})
        if path == "/token" and request.method == "POST":
            return self._token(request)
        if path == "/revoke" and request.method == "POST":
            token = request.form.get("token") or request.args.get("token", "")
            with self._lock:
                email = self._refresh.get(token) or self._access.get(token)
                if email is None:
                    return self.json({"error": "invalid_token"}, 400)
                self.revoke_all(email)
            return self.json({})
        if path.startswith("/calendar/v3/"):
            return self._calendar(request, path[len("/calendar/v3"):])
        return _error(404, "notFound")

    def _client_ok(self, request: Request) -> bool:
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, secret = request.authorization.username, request.authorization.password
        return client_id == self.client_id and secret == self.client_secret

    def _issue(self, email: str, refresh: str | None) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(32)
        self._access[access] = email
        answer = {"access_token": access, "expires_in": ACCESS_SECONDS, "token_type": "Bearer",
                  "scope": "https://www.googleapis.com/auth/calendar.readonly "
                           "https://www.googleapis.com/auth/calendar.events"}
        if refresh:
            answer["refresh_token"] = refresh
        return answer

    def _token(self, request: Request) -> Response:
        if not self._client_ok(request):
            return self.json({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
        grant = request.form.get("grant_type")
        with self._lock:
            if grant == "authorization_code":
                entry = self._codes.pop(request.form.get("code", ""), None)
                if entry is None or entry[1] != request.form.get("redirect_uri"):
                    return self.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
                email, _uri, challenge, offline = entry
                verifier = request.form.get("code_verifier", "")
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if challenge and computed != challenge:
                    return self.json({"error": "invalid_grant", "error_description": "Invalid code verifier."}, 400)
                refresh = None
                if offline:
                    refresh = "1//0" + secrets.token_urlsafe(32)
                    self._refresh[refresh] = email
                return self.json(self._issue(email, refresh))
            if grant == "refresh_token":
                email = self._refresh.get(request.form.get("refresh_token", ""))
                if email is None:
                    return self.json({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                                     400)
                self.refresh_count += 1
                return self.json(self._issue(email, None))
        return self.json({"error": "unsupported_grant_type"}, 400)

    def _calendar(self, request: Request, path: str) -> Response:
        with self._lock:
            self.requests.append((request.method, path))
            failing = self._fail > 0
            if failing:
                self._fail -= 1
        if self.delay:
            time.sleep(self.delay)
        if failing:
            return _error(503, "backendError")
        auth = request.headers.get("Authorization", "")
        with self._lock:
            email = self._access.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
            if email is None:
                return _error(401, "authError", "Invalid Credentials")
            account = self.account(email)
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if parts[:2] == ["users", "me"] and len(parts) == 4 and parts[2] == "calendarList":
                cal_id = email if parts[3] == "primary" else parts[3]
                if cal_id not in account.calendars:
                    return _error(404, "notFound")
                return self.json({"kind": "calendar#calendarListEntry", "id": cal_id,
                                  "summary": account.calendars[cal_id]["summary"], "primary": cal_id == email,
                                  "timeZone": "America/Denver",
                                  "accessRole": account.calendars[cal_id].get("access_role", "owner")})
            if parts == ["freeBusy"] and request.method == "POST":
                body = request.get_json(force=True)
                lo, hi = _parse(body["timeMin"]), _parse(body["timeMax"])
                calendars: dict[str, Any] = {}
                for item in body.get("items", []):
                    cal = account.calendars.get(item["id"])
                    if cal is None:
                        calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                        continue
                    busy = []
                    for event in cal["events"].values():
                        s, e = _parse(event["start"]["dateTime"]), _parse(event["end"]["dateTime"])
                        if event.get("status") != "cancelled" and s < hi and e > lo:
                            busy.append({"start": s.isoformat().replace("+00:00", "Z"),
                                         "end": e.isoformat().replace("+00:00", "Z")})
                    calendars[item["id"]] = {"busy": sorted(busy, key=lambda b: b["start"])}
                return self.json({"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"],
                                  "calendars": calendars})
            if len(parts) >= 3 and parts[0] == "calendars" and parts[2] == "events":
                cal = account.calendars.get(parts[1])
                if cal is None:
                    return _error(404, "notFound")
                events = cal["events"]
                if len(parts) == 3 and request.method == "POST":
                    event = request.get_json(force=True)
                    event_id = event.get("id") or secrets.token_hex(8)
                    if event_id in events:
                        return _error(409, "duplicate", "The requested identifier already exists.")
                    events[event_id] = {**event, "id": event_id, "status": "confirmed"}
                    return self.json(events[event_id])
                if len(parts) == 3 and request.method == "GET":
                    return self.json({"kind": "calendar#events",
                                      "items": [e for e in events.values() if e.get("status") != "cancelled"]})
                if len(parts) == 4:
                    event = events.get(parts[3])
                    if event is None:
                        return _error(404, "notFound")
                    if event.get("status") == "cancelled":
                        return _error(410, "deleted", "Resource has been deleted")
                    if request.method == "PATCH":
                        event.update({**request.get_json(force=True), "id": parts[3], "status": "confirmed"})
                        return self.json(event)
                    if request.method == "DELETE":
                        event["status"] = "cancelled"
                        return Response(status=204)
                    if request.method == "GET":
                        return self.json(event)
        return _error(404, "notFound")

