"""The Resend client: the SDK configured from Settings, and its failures sorted into "retry" and
"never".

* The SDK is configured through module globals: ``resend.api_key`` and ``resend.api_url``
  (``RESEND_API_URL`` points it at the loopback sandbox in tests and on the dev stack). The SDK
  reads ``RESEND_API_KEY`` / ``RESEND_API_URL`` from ``os.environ`` when it is imported; we
  overwrite both from Settings before every call, so Settings stay the only configuration.
  Every function instance has one Settings, so the globals never flip between two values.
* ``resend.default_http_client`` becomes a client on one ``requests.Session`` with a 10 s
  timeout: a warm instance reuses its TCP/TLS connection, and a hung Resend fails well within
  Cloud Tasks' dispatch deadline. (The SDK's default opens a connection per request and waits
  30 s.)
* :func:`send_email` answers Resend's email id, raises :class:`ResendUnavailable` (a
  :class:`shared.ports.StoreUnavailable`: the task is retried) when Resend cannot be reached,
  times out, answers 5xx or ``rate_limit_exceeded``, refuses our API key (a configuration fault
  we fix, not a reason to drop the email) or is still working on the same idempotency key; and
  raises :class:`ResendRejected` when a retry cannot succeed soon: 400/422, a daily or monthly
  quota (429 ``daily_quota_exceeded`` / ``monthly_quota_exceeded``), an unverified or
  mismatched ``from`` domain or a recipient a test domain may not send to (403
  ``validation_error``, 422 ``invalid_from_address``). The last two carry ``alert``.

Importing this module imports nothing from ``resend``; :func:`preload` does (about 0.5 s, it
pulls in httpx), for the functions that send at instance start-up.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Mapping

from shared.ports import StoreUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

DEFAULT_API_URL = "https://api.resend.com"
TIMEOUT_SECONDS = 10.0
MAX_IDEMPOTENCY_KEY = 256  # Resend's limit

_lock = threading.Lock()
_configured: tuple[str, str] | None = None


class ResendUnavailable(StoreUnavailable):
    """Resend could not take the email now: retry later (same idempotency key)."""


class ResendRejected(ValueError):
    """Resend refused this email for good. ``name`` is Resend's error name (``validation_error``
    ...); the message is not kept because Resend quotes addresses in it. ``alert`` says when the
    cause stops every email, not just this one (``quota``, ``domain``)."""

    def __init__(self, status: int, name: str, *, alert: str | None = None) -> None:
        super().__init__(f"resend refused the email: {status} {name}")
        self.status = status
        self.name = name
        self.alert = alert


def preload() -> None:
    """Import the SDK now (instance start-up) instead of during the first send."""
    import resend  # noqa: F401


def api_url(settings: "Settings") -> str:
    return (settings.resend_api_url or DEFAULT_API_URL).rstrip("/")


def configure(settings: "Settings") -> Any:
    """Point the SDK at ``settings`` (idempotent, cheap); returns the ``resend`` module."""
    global _configured
    import resend

    wanted = (api_url(settings), settings.secret("resend_api_key"))
    if _configured != wanted or resend.api_url != wanted[0] or resend.api_key != wanted[1]:
        with _lock:
            resend.api_url, resend.api_key = wanted
            if not isinstance(resend.default_http_client, _SessionClient):
                resend.default_http_client = _SessionClient(TIMEOUT_SECONDS)
            _configured = wanted
    return resend


def send_email(settings: "Settings", params: Mapping[str, Any], *, idempotency_key: str) -> str:
    """``resend.Emails.send(params, options={"idempotency_key": ...})``; returns the email id."""
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError("idempotency key must be 1-256 characters")
    resend = configure(settings)
    from resend.exceptions import ResendError

    try:
        response = resend.Emails.send(dict(params), options={"idempotency_key": idempotency_key})
    except ResendError as exc:
        raise classify(exc) from None
    email_id = response.get("id") if isinstance(response, Mapping) else None
    if not email_id:
        raise ResendUnavailable("resend answered without an email id")
    return str(email_id)


# Resend's documented error names (https://resend.com/docs/api-reference/errors), sorted by
# what a retry can do. The SDK raises ``RateLimitError`` for all three 429 names and
# ``InvalidApiKeyError`` / ``ValidationError`` / a plain ``ResendError`` for the others; the name
# (``error_type``) is what tells them apart.
RETRY_NAMES = frozenset({
    "rate_limit_exceeded",            # 429: per-second limit, gone in a moment
    "concurrent_idempotent_requests",  # 409: the same key is still being processed
    "application_error", "internal_server_error",  # 5xx
    # our API key: a configuration fault we fix, never a reason to drop the email
    "missing_api_key", "restricted_api_key", "invalid_api_key",
})
QUOTA_NAMES = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})
# 403 validation_error: the from domain is not verified (or not the verified one), or a test
# domain may only send to the account owner; 422 invalid_from_address.
DOMAIN_NAMES = frozenset({"invalid_from_address"})


def classify(exc: Any) -> Exception:
    """Map a ``resend.exceptions.ResendError`` to retry (:class:`ResendUnavailable`) or never
    (:class:`ResendRejected`, with ``alert`` = ``"quota"`` / ``"domain"`` when the operator must
    act before any email can go out again)."""
    try:
        status = int(exc.code)
    except (TypeError, ValueError):
        status = 500
    name = str(getattr(exc, "error_type", "") or "unknown")
    if name in QUOTA_NAMES:
        return ResendRejected(status, name, alert="quota")
    if name in DOMAIN_NAMES or (status == 403 and name == "validation_error"):
        return ResendRejected(status, name, alert="domain")
    if status >= 500 or name in RETRY_NAMES or name == "HttpClientError":
        return ResendUnavailable(f"resend answered {status} {name}")
    if status in (401, 403):  # an undocumented name for an authentication failure: our key
        return ResendUnavailable(f"resend answered {status} {name}")
    if status == 429:  # an undocumented 429: a rate limit until Resend says otherwise
        return ResendUnavailable(f"resend answered {status} {name}")
    return ResendRejected(status, name)


class _SessionClient:
    """``resend.HTTPClient`` on one pooled ``requests.Session`` (see the module docstring).

    Duck-typed rather than subclassed so this module imports nothing from ``resend``; the SDK
    only calls ``request(...)`` and catches whatever it raises as ``HttpClientError``."""

    def __init__(self, timeout: float) -> None:
        import requests

        self._timeout = timeout
        self._session = requests.Session()

    def request(self, method: str, url: str, headers: Mapping[str, str], json: Any = None,
                files: Any = None, data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        import requests

        try:
            if files is not None:
                resp = self._session.request(method, url, headers=headers, files=files, data=data,
                                             timeout=self._timeout)
            else:
                resp = self._session.request(method, url, headers=headers, json=json if data is None else None,
                                             data=data, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RuntimeError(f"request failed: {type(exc).__name__}") from None
        return resp.content, resp.status_code, resp.headers
