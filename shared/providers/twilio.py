"""The Twilio REST client, built once per process from Settings.

* ``client(settings)`` is one ``twilio.rest.Client`` per (account, token, base URL) and process:
  it keeps its HTTP connection pool, so a warm function skips the TCP/TLS handshake.
* ``TWILIO_API_BASE_URL`` points the **Api domain** (``api.twilio.com``: Messages, Calls,
  Recordings) somewhere else -- the loopback sandbox in tests and on the dev stack. In twilio 9
  every resource URL is ``Domain.absolute_url(uri)`` = ``domain.base_url + uri``, and the Api
  domain is built lazily as ``client.api`` with ``base_url = "https://api.twilio.com"``; setting
  ``client.api.base_url`` after construction re-points every Api resource (checked against the
  real SDK and ``tools/sandboxes/twilio.py`` in ``tests/functions/test_sms_*``). Other domains
  (lookups, messaging ...) keep their production URLs; we do not use them.
* Settings are the only configuration: the SDK would otherwise read ``TWILIO_*`` (and
  ``TWILIO_EDGE`` / ``TWILIO_REGION``, which rewrite host names) from ``os.environ``; we hand it an
  explicit environment instead.
* The SDK's request logger (``twilio.http_client``) logs request bodies -- message text and
  phone numbers -- at INFO. It is held at WARNING here: no PII in our logs.
* A request that cannot reach Twilio, times out, is rate limited (429) or gets a 5xx is
  :class:`TwilioUnavailable` (a :class:`shared.ports.StoreUnavailable`): a webhook answers 503
  and its sender retries, a worker raises and its queue retries.

The module imports nothing from ``twilio`` until a client is asked for.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from shared.ports import StoreUnavailable

if TYPE_CHECKING:
    import datetime as dt

    from shared.config import Settings

DEFAULT_API_BASE_URL = "https://api.twilio.com"
TIMEOUT_SECONDS = 5.0  # Twilio waits 15 s for our webhook answers; one API call gets a third of it

_clients: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


class TwilioUnavailable(StoreUnavailable):
    """Twilio could not be reached or answered 5xx/429: retry later."""


def api_base_url(settings: "Settings") -> str:
    return (settings.twilio_api_base_url or DEFAULT_API_BASE_URL).rstrip("/")


def client(settings: "Settings"):
    """The process's Twilio client for these settings (see the module docstring)."""
    key = (settings.twilio_account_sid, settings.secret("twilio_auth_token"), api_base_url(settings))
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                found = _build(*key)
                _clients[key] = found
    return found


def _build(account_sid: str, auth_token: str, base_url: str):
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    http = TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    # A non-empty explicit environment, so the SDK reads nothing from os.environ.
    built = Client(account_sid, auth_token, http_client=http, environment={"Z3_SETTINGS_ONLY": "1"})
    if base_url != DEFAULT_API_BASE_URL:
        built.api.base_url = base_url
    return built


def unavailable(exc: BaseException) -> bool:
    """True for failures worth retrying: transport errors, timeouts, 429 and 5xx answers."""
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        return exc.status == 429 or exc.status >= 500 or exc.code == 20429
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, OSError))


# --- recordings (used by the voice capability) ------------------------------------------------

def recording_media_url(settings: "Settings", recording_sid: str, fmt: str = "wav") -> str:
    """``.../2010-04-01/Accounts/{AccountSid}/Recordings/{sid}.wav`` on the configured base URL."""
    if fmt not in ("wav", "mp3"):
        raise ValueError("recording format is wav or mp3")
    return f"{api_base_url(settings)}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/{recording_sid}.{fmt}"


def download_recording(settings: "Settings", recording_sid: str, fmt: str = "wav") -> tuple[bytes, str | None]:
    """The recording's media (HTTP Basic auth, as accounts with media auth require), and its
    content type. Raises :class:`TwilioUnavailable` to retry, ``LookupError`` when Twilio has no
    such recording (404), ``PermissionError`` on 401/403."""
    import requests

    session = client(settings).http_client.session or requests.Session()
    try:
        response = session.get(recording_media_url(settings, recording_sid, fmt), timeout=30,
                               auth=(settings.twilio_account_sid, settings.secret("twilio_auth_token")))
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TwilioUnavailable(f"recording download failed: {type(exc).__name__}") from None
    if response.status_code == 404:
        raise LookupError("twilio has no such recording")
    if response.status_code in (401, 403):
        raise PermissionError("twilio refused the recording download")
    if response.status_code == 429 or response.status_code >= 500:
        raise TwilioUnavailable(f"recording download answered {response.status_code}")
    if response.status_code != 200:
        raise TwilioUnavailable(f"recording download answered {response.status_code}")
    return response.content, response.headers.get("Content-Type")


def delete_recording(settings: "Settings", recording_sid: str) -> bool:
    """Delete Twilio's copy. True when deleted, False when it was already gone (404)."""
    from twilio.base.exceptions import TwilioRestException

    try:
        return bool(_call_twilio("recording delete",
                                 lambda: client(settings).api.v2010.account.recordings(recording_sid).delete()))
    except TwilioRestException as exc:
        if exc.status == 404:
            return False
        raise
    except Exception as exc:
        if unavailable(exc):
            raise TwilioUnavailable(f"recording delete failed: {type(exc).__name__}") from None
        raise


def _call_twilio(what: str, fn):
    """Run one SDK call; retryable failures become :class:`TwilioUnavailable`."""
    from twilio.base.exceptions import TwilioRestException

    try:
        return fn()
    except TwilioRestException as exc:
        if unavailable(exc):
            raise TwilioUnavailable(f"{what} answered {exc.status}") from None
        raise
    except Exception as exc:  # noqa: BLE001 - transport errors, and a list page that failed
        # Paging raises TwilioException("Unable to fetch page", response), not TwilioRestException.
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and (status == 429 or status >= 500):
            raise TwilioUnavailable(f"{what} answered {status}") from None
        if unavailable(exc):
            raise TwilioUnavailable(f"{what} failed: {type(exc).__name__}") from None
        raise


def list_recordings(settings: "Settings", *, created_after: "dt.datetime", page_size: int = 100) -> list[Any]:
    """The account's recordings created after ``created_after`` (the SDK follows Twilio's pages)."""
    account = client(settings).api.v2010.account
    return _call_twilio("recording list", lambda: list(
        account.recordings.stream(date_created_after=created_after, page_size=page_size)))


def called_number(settings: "Settings", call_sid: str) -> str | None:
    """The ``to`` of a call (for an inbound call: the business's number); None when Twilio has no
    such call."""
    from twilio.base.exceptions import TwilioRestException

    try:
        call = _call_twilio("call fetch", lambda: client(settings).api.v2010.account.calls(call_sid).fetch())
    except TwilioRestException as exc:
        if exc.status == 404:
            return None
        raise
    return call.to or None


class CallNotLive(Exception):
    """The call cannot be redirected: it is over (Twilio 21220) or Twilio has no such call (404)."""


def redirect_call(settings: "Settings", call_sid: str, twiml: str) -> None:
    """Replace what a live call is doing with ``twiml`` (``calls(sid).update(twiml=...)``).
    Twilio ends the verb in progress (a ``<Dial>``: its ``action`` URL is requested, and the
    TwiML it answers is ignored) and runs the new TwiML. Raises :class:`TwilioUnavailable` to
    retry, :class:`CallNotLive` when the caller is gone."""
    from twilio.base.exceptions import TwilioRestException

    try:
        _call_twilio("call update", lambda: client(settings).api.v2010.account.calls(call_sid).update(twiml=twiml))
    except TwilioRestException as exc:
        if exc.status == 404 or exc.code == 21220:
            raise CallNotLive(f"call update answered {exc.status} ({exc.code})") from None
        raise
