"""Intuit (QuickBooks Online): intuit-oauth's ``AuthClient`` for OAuth, and the accounting API as
plain JSON calls on ``requests`` (what intuit-oauth is built on: ``AuthClient`` is a
``requests.Session``; the API calls use one long-lived session per instance rather than an
``AuthClient``, whose constructor fetches the discovery document every time).

Why plain calls, not ``python-quickbooks`` (issue 16 item 5):
we use four entities (Customer, Invoice, Item, CDC) and need exactly what python-quickbooks
hides -- the HTTP status and Intuit's fault codes (429 and ThrottleExceeded for the backoff,
5010 "Stale Object" for the SyncToken retry, 401 for a forced refresh), ``sparse: true``
updates, and a base URL we configure (the loopback sandbox). python-quickbooks wraps its own
``AuthClient`` session anyway, adds a dependency and its import to the cold start, and picks the
host from a ``sandbox`` flag. A request here is 10 lines we test against the sandbox.

Configuration: ``INTUIT_DISCOVERY_URL`` (default: intuit-oauth's discovery document for
``INTUIT_ENVIRONMENT``) -- ``AuthClient`` takes a discovery URL as its ``environment``, which is
how the sandbox's OAuth endpoints are reached; ``INTUIT_API_BASE_URL`` (default: Intuit's
sandbox or production accounting host). Every request has a 10 s timeout (requests has none).

Failures: Intuit unreachable, 5xx, 429 or a throttling fault -> :class:`IntuitUnavailable` (a
``StoreUnavailable``: retry; ``retry_after`` when Intuit said); anything else non-2xx ->
:class:`IntuitError` with the status and Intuit's fault code (never the message: it may quote
customer data).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from shared.ports import StoreUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

TIMEOUT_SECONDS = 10.0
API_HOSTS = {"sandbox": "https://sandbox-quickbooks.api.intuit.com",
             "production": "https://quickbooks.api.intuit.com"}
MINOR_VERSION = "75"
SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"
THROTTLE_CODES = {"003001", "ThrottleExceeded"}  # Intuit's "ThrottleExceeded" fault
STALE_CODES = {"5010"}  # "Stale Object Error": the SyncToken is not the current one


class IntuitUnavailable(StoreUnavailable):
    def __init__(self, reason: str, retry_after: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.throttled = throttled


class IntuitError(Exception):
    def __init__(self, status: int, code: str = "") -> None:
        super().__init__(f"intuit answered {status} {code}".strip())
        self.status = status
        self.code = code

    @property
    def stale(self) -> bool:
        return self.code in STALE_CODES

    @property
    def unauthorized(self) -> bool:
        return self.status == 401


class GrantRefused(Exception):
    """The token endpoint answered ``invalid_grant`` (refresh token expired or revoked)."""


def _auth_client_class():
    from intuitlib.client import AuthClient

    class TimedAuthClient(AuthClient):
        def request(self, method, url, **kwargs):  # noqa: ANN001 - requests.Session's signature
            kwargs.setdefault("timeout", TIMEOUT_SECONDS)
            return super().request(method, url, **kwargs)

    return TimedAuthClient


def auth_client(settings: "Settings", *, access_token: str | None = None, refresh_token: str | None = None,
                realm_id: str | None = None):
    """An ``AuthClient`` (it fetches the discovery document when built: one request)."""
    import requests

    try:
        return _auth_client_class()(
            settings.intuit_client_id, settings.secret("intuit_client_secret"), settings.function_url("oauth_callback"),
            settings.intuit_discovery_url or settings.intuit_environment, access_token=access_token,
            refresh_token=refresh_token, realm_id=realm_id)
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise IntuitUnavailable(f"intuit discovery failed: {type(exc).__name__}") from None


AUTHORIZE_ORIGIN = "https://appcenter.intuit.com"  # Intuit's consent page, sandbox and production alike


def authorize_origin(settings: "Settings") -> str:
    """The origin of the consent page without fetching the discovery document: Intuit's own, or,
    with a discovery URL off Intuit's domain (the loopback sandbox), that URL's origin, which
    serves its consent page too. Listed in a page's CSP ``form-action`` (a form's redirect is
    held to it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(settings.intuit_discovery_url or "")
    host = (parts.hostname or "").lower()
    if not host or host == "intuit.com" or host.endswith(".intuit.com"):
        return AUTHORIZE_ORIGIN
    return f"{parts.scheme}://{parts.netloc}"


def authorize_url(settings: "Settings", state: str) -> str:
    return auth_client(settings).get_authorization_url([_accounting_scope()], state_token=state)


def _accounting_scope():
    from intuitlib.enums import Scopes

    return Scopes.ACCOUNTING


def _token_call(call) -> None:  # noqa: ANN001
    import requests
    from intuitlib.exceptions import AuthClientError

    try:
        call()
    except AuthClientError as exc:
        body = exc.content or b""
        if exc.status_code == 400 and b"invalid_grant" in body:
            raise GrantRefused() from None
        if exc.status_code >= 500 or exc.status_code == 429:
            raise IntuitUnavailable(f"intuit token endpoint answered {exc.status_code}") from None
        raise IntuitError(exc.status_code, "invalid_request" if b"invalid" in body else "") from None
    except requests.RequestException as exc:
        raise IntuitUnavailable(f"intuit token endpoint unreachable: {type(exc).__name__}") from None


def exchange_code(settings: "Settings", code: str, realm_id: str) -> dict[str, Any]:
    """The tokens for an authorization code: access/refresh tokens and their lifetimes (s)."""
    client = auth_client(settings)
    _token_call(lambda: client.get_bearer_token(code, realm_id=realm_id))
    return _tokens_of(client)


def refresh(settings: "Settings", refresh_token: str) -> dict[str, Any]:
    client = auth_client(settings, refresh_token=refresh_token)
    _token_call(lambda: client.refresh())
    return _tokens_of(client)


def revoke(settings: "Settings", token: str) -> None:
    """Revoke the grant at Intuit (a refresh token revokes both). An already revoked token is done."""
    client = auth_client(settings)
    try:
        _token_call(lambda: client.revoke(token=token))
    except (GrantRefused, IntuitError):
        return


def _tokens_of(client: Any) -> dict[str, Any]:
    return {"access_token": client.access_token, "refresh_token": client.refresh_token,
            "expires_in": int(client.expires_in or 3600),
            "x_refresh_token_expires_in": int(client.x_refresh_token_expires_in or 100 * 86400)}


def expiry(now: dt.datetime, seconds: int) -> dt.datetime:
    return now + dt.timedelta(seconds=seconds)


class Accounting:
    """The accounting API of one company (realm), with one access token."""

    def __init__(self, settings: "Settings", realm_id: str, access_token: str) -> None:
        self._base = (settings.intuit_api_base_url or API_HOSTS[settings.intuit_environment]).rstrip("/")
        self._realm = realm_id
        self._token = access_token
        self._session = _session()

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                json_body: dict[str, Any] | None = None) -> dict[str, Any]:
        import requests

        url = f"{self._base}/v3/company/{self._realm}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = self._session.request(method, url, params={**(params or {}), "minorversion": MINOR_VERSION},
                                             json=json_body, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise IntuitUnavailable(f"intuit unreachable: {type(exc).__name__}") from None
        code = _fault_code(response)
        if response.status_code == 429 or code in THROTTLE_CODES:
            raise IntuitUnavailable("intuit throttled the request", _retry_after(response), throttled=True)
        if response.status_code >= 500:
            raise IntuitUnavailable(f"intuit answered {response.status_code}")
        if response.status_code >= 400:
            raise IntuitError(response.status_code, code)
        data = response.json()
        if code:  # a 200 holding a Fault
            raise IntuitError(400, code)
        return data

    def query(self, statement: str) -> list[dict[str, Any]]:
        data = self.request("GET", "query", params={"query": statement})
        response = data.get("QueryResponse") or {}
        return next((value for value in response.values() if isinstance(value, list)), [])


_sessions: dict[str, Any] = {}


def _session():
    """One requests.Session per instance for the accounting API (keeps TLS connections)."""
    import requests

    session = _sessions.get("api")
    if session is None:
        session = _sessions["api"] = requests.Session()
    return session


def _fault_code(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    fault = data.get("Fault") or data.get("fault") if isinstance(data, dict) else None
    if not isinstance(fault, dict):
        return ""
    errors = fault.get("Error") or fault.get("error") or []
    return str(errors[0].get("code", "")) if errors and isinstance(errors[0], dict) else ""


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
