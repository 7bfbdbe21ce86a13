"""Who may call a worker (task target, Pub/Sub subscriber, scheduled job): checked by the worker
itself, beside IAM and ingress, so a worker reachable by someone else processes nothing.

* **gcp**: the ``Authorization: Bearer`` OIDC token Cloud Tasks, Eventarc and Cloud Scheduler
  attach. Google-signed (``accounts.google.com``), not expired, ``aud`` = the function's URL
  (``Settings.worker_url``, its Cloud Run URL in production, which the tasks, Pub/Sub pushes
  and Scheduler jobs use as audience; ``Settings.function_url``; or ``Z3_FUNCTION_RUN_URL``), ``email`` = the expected invoker, ``email_verified``.
  Google's certificates are fetched once per instance and kept for the lifetime their
  Cache-Control gives (refetched early when a token names an unknown key).

  Cloud Run verifies the token of a request it lets through IAM and then replaces the token's
  signature with ``SIGNATURE_REMOVED_BY_GOOGLE`` before the container sees it. Such a token has
  already passed Google's signature and IAM check (workers are never public: terraform grants
  ``run.invoker`` to the invoker accounts only), so its claims are checked without the
  signature: the check then pins *which* identity and *which* URL, narrower than IAM's "anyone
  holding run.invoker". A token whose signature is present is always verified.
* **local**: the dispatcher signs each delivery with a key generated per data directory
  (``<data dir>/dispatch.key``, mode 0600): header ``X-Z3-Delivery-Signature: t=<unix>,v1=<hex
  HMAC-SHA256(key, "<t>.<function>." + body)>``, five minutes' tolerance. Someone else on
  loopback cannot read the key, so cannot make ``notify`` send an email or ``recording_ingest``
  delete a recording.
* **emulated gcp** (``FIRESTORE_EMULATOR_HOST``: development only, refused with ``K_SERVICE``):
  the Google emulators attach no OIDC token, so the same data-directory key stands in for it.
  The gcp task queue puts the delivery signature above on each task it creates (its timestamp
  is the task's due time), and a Pub/Sub push subscription's endpoint carries a push token in
  its query, ``?z3_push=<hex HMAC-SHA256(key, "push.<function>")>`` (the push body is the
  emulator's, so only the endpoint can be signed). A worker accepts them in emulated mode only,
  beside the OIDC token; without emulators (production) only the OIDC token counts.

Everything that is not proven raises :class:`InvalidSignature` (403). Reasons are fixed phrases:
never a token, never a claim value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable

from shared.webhooks import TOLERANCE_SECONDS, InvalidSignature

PROVIDER = "invoker"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
STRIPPED_SIGNATURE = "SIGNATURE_REMOVED_BY_GOOGLE"
CLOCK_SKEW_SECONDS = 10
DELIVERY_HEADER = "X-Z3-Delivery-Signature"
DELIVERY_KEY_FILE = "dispatch.key"
_MAX_AGE = re.compile(r"max-age=(\d+)")


# -- local: the dispatcher's signature -------------------------------------------------------------

def delivery_key(data_dir: Path) -> bytes:
    """The data directory's delivery key (32 random bytes, created 0600 on first use)."""
    from shared.adapters.local.cipher import load_or_create_key

    return load_or_create_key(Path(data_dir) / DELIVERY_KEY_FILE)


def _mac(key: bytes, timestamp: str, function: str, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.{function}.".encode() + body, hashlib.sha256).hexdigest()


def sign_delivery(key: bytes, function: str, body: bytes, now: float | None = None) -> str:
    timestamp = str(int(time.time() if now is None else now))
    return f"t={timestamp},v1={_mac(key, timestamp, function, body)}"


def verify_delivery(key: bytes, function: str, body: bytes, header: str | None, now: float | None = None) -> None:
    if not header:
        raise InvalidSignature(PROVIDER, "unsigned delivery")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, mac = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not mac:
        raise InvalidSignature(PROVIDER, "malformed delivery signature")
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature(PROVIDER, "stale delivery signature")
    if not hmac.compare_digest(mac, _mac(key, timestamp, function, body)):
        raise InvalidSignature(PROVIDER, "forged delivery signature")


PUSH_TOKEN_PARAM = "z3_push"


def push_token(key: bytes, function: str) -> str:
    """The token an emulated push subscription to ``function`` carries in its endpoint's query."""
    return hmac.new(key, f"push.{function}".encode(), hashlib.sha256).hexdigest()


def verify_push_token(key: bytes, function: str, token: str | None) -> None:
    if not token:
        raise InvalidSignature(PROVIDER, "no push token")
    if not hmac.compare_digest(token, push_token(key, function)):
        raise InvalidSignature(PROVIDER, "forged push token")


# -- gcp: Google's OIDC token ----------------------------------------------------------------------

# () -> (certs by key id, seconds they may be kept)
CertSource = Callable[[], tuple[dict[str, str], float]]


def google_certs(url: str = GOOGLE_CERTS_URL) -> CertSource:
    """Fetch Google's token certificates over HTTPS (google-auth's requests transport)."""

    def fetch() -> tuple[dict[str, str], float]:
        from google.auth.transport.requests import Request

        response = Request()(url, method="GET", timeout=10)
        if response.status != 200:
            raise InvalidSignature(PROVIDER, "token certificates unavailable")
        match = _MAX_AGE.search(response.headers.get("cache-control", "") or "")
        return json.loads(response.data), float(match.group(1)) if match else 3600.0

    return fetch


class OidcVerifier:
    """Verifies Google-signed OIDC tokens; one per instance, so the certificates are cached."""

    def __init__(self, certs: CertSource | None = None) -> None:
        self._source = certs or google_certs()
        self._certs: dict[str, str] = {}
        self._expires = 0.0
        self._last_fetch = 0.0
        self._lock = threading.Lock()

    def _current_certs(self, key_id: str | None) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            stale = now >= self._expires
            unknown_key = key_id is not None and key_id not in self._certs and now - self._last_fetch > 60
            if stale or unknown_key:
                try:
                    certs, max_age = self._source()
                except InvalidSignature:
                    raise
                except Exception:  # noqa: BLE001 - no certificates: nothing can be proven
                    raise InvalidSignature(PROVIDER, "token certificates unavailable") from None
                self._certs, self._expires, self._last_fetch = dict(certs), now + max_age, now
            return self._certs

    def claims(self, authorization: str | None, *, audiences: Sequence[str], email: str | None) -> Mapping[str, Any]:
        if not email:
            raise InvalidSignature(PROVIDER, "no invoker configured")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            raise InvalidSignature(PROVIDER, "no bearer token")
        from google.auth import exceptions, jwt

        try:
            if token.rsplit(".", 1)[1] == STRIPPED_SIGNATURE:
                claims = jwt.decode(token, verify=False)
                _check_times(claims)
                if claims.get("aud") not in audiences:
                    raise InvalidSignature(PROVIDER, "wrong audience")
            else:
                header = jwt.decode_header(token)
                certs = self._current_certs(header.get("kid"))
                claims = jwt.decode(token, certs=certs, audience=list(audiences),
                                    clock_skew_in_seconds=CLOCK_SKEW_SECONDS)
        except InvalidSignature:
            raise
        except (exceptions.GoogleAuthError, ValueError) as exc:
            reason = "wrong audience" if "audience" in str(exc) else (
                "expired token" if "expired" in str(exc).lower() else "invalid token")
            raise InvalidSignature(PROVIDER, reason) from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise InvalidSignature(PROVIDER, "wrong issuer")
        if claims.get("email") != email or claims.get("email_verified") is not True:
            raise InvalidSignature(PROVIDER, "wrong invoker")
        return claims


def _check_times(claims: Mapping[str, Any]) -> None:
    now = time.time()
    try:
        issued, expires = float(claims["iat"]), float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        raise InvalidSignature(PROVIDER, "invalid token") from None
    if issued > now + CLOCK_SKEW_SECONDS:
        raise InvalidSignature(PROVIDER, "invalid token")
    if expires < now - CLOCK_SKEW_SECONDS:
        raise InvalidSignature(PROVIDER, "expired token")
