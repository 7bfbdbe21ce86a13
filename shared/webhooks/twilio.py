"""Twilio: ``X-Twilio-Signature`` = base64 HMAC-SHA1(auth token, URL + sorted POST params).

The URL is ``settings.function_url(function_name)`` plus the request's query string, never the
request's own scheme and host (Google's front end rewrites them). Checked with the SDK's
``twilio.request_validator.RequestValidator``, which also tries the URL with and without the
default port, as Twilio itself is inconsistent there.

* form bodies (``application/x-www-form-urlencoded``): the parsed parameters are signed, a
  repeated name with each of its values;
* JSON bodies: Twilio adds ``bodySHA256`` (hex SHA-256 of the raw body) to the signed URL; the
  validator checks both the URL signature and that hash;
* an empty body: only the URL is signed;
* any other body without ``bodySHA256`` is not covered by the signature and is refused.

Twilio signatures carry no timestamp: replays are stopped by idempotency on CallSid/MessageSid,
not here.
"""

from __future__ import annotations

import functools
import hmac
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from shared import runtime
from shared.http import Incoming
from shared.webhooks import InvalidSignature, _header, _secret, _text

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Twilio posts a few dozen parameters at most; a body with more is not Twilio's.
MAX_FORM_FIELDS = 1000


class _FormParams(dict):
    """Form parameters as ``RequestValidator`` reads them: ``getall(name)`` returns every value of
    a repeated name (the validator looks for ``getall`` first, as on a Flask ``MultiDict``)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            values.setdefault(name, []).append(value)
        super().__init__((name, vals[0]) for name, vals in values.items())
        self._values = values

    def getall(self, name: str) -> list[str]:
        return list(self._values[name])


def _form_params(raw_body: bytes) -> _FormParams:
    text = _text(raw_body, PROVIDER)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature(PROVIDER, "malformed form body") from None
    return _FormParams(pairs)


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> Any:
    """The SDK's validator of one auth token (built once: it encodes the token)."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(token)


def verify_twilio_request(req: Incoming) -> None:
    """The ``verify`` of every Twilio-facing function (``shared.http.handle``): Twilio's
    ``X-Twilio-Signature`` over our public URL of the function (+ its query string) and the form
    parameters, with the settings of this instance; raises :class:`InvalidSignature` (403)."""
    verify_request(runtime.settings(), req)


def verify_request(settings: Any, req: Incoming) -> None:
    """:func:`verify_twilio` of a ``shared.http.Incoming``; the form body it parses is the one the
    handler reads afterwards (parsed once)."""
    pairs = None
    if req.raw_body and req.content_type == FORM_CONTENT_TYPE:
        try:
            pairs = req.form_pairs()
        except ValueError:  # BadRequest: let the verifier refuse it as unsigned (403), not 400
            pairs = None
    verify_twilio(settings, function_name=req.function, query_string=req.query_string, raw_body=req.raw_body,
                  content_type=req.content_type, signature=req.headers.get(SIGNATURE_HEADER), form_pairs=pairs,
                  signature_settings=req.headers.get(SIGNATURE_SETTINGS_HEADER))


def _key_and_algorithm(settings: Any, signature_settings: str | None) -> tuple[str, str | None]:
    """The secret and algorithm Twilio signed with. No settings header: the account's Auth Token
    and HMAC-SHA1. With ``X-Twilio-Webhooks-Signature-Settings`` (a Webhook Rule's Setting matched
    the URL): that Setting's SharedKey (``TWILIO_WEBHOOK_SHARED_KEY``) and the header's algorithm
    (the SDK's ``get_signature_algorithm``); refused when no shared key is configured."""
    if not (signature_settings or "").strip():
        return _secret(settings, "twilio_auth_token", PROVIDER), None
    from twilio.request_validator import get_signature_algorithm

    try:
        key = settings.secret("twilio_webhook_shared_key")
    except AttributeError:
        key = None
    if not isinstance(key, str) or not key.strip():
        raise InvalidSignature(PROVIDER, "signed with a shared key, but none is configured")
    return key, get_signature_algorithm(signature_settings)


def verify_twilio(settings: Any, *, function_name: str, query_string: str, raw_body: bytes,
                  content_type: str, signature: str | None,
                  form_pairs: list[tuple[str, str]] | None = None, signature_settings: str | None = None) -> None:
    """Raise :class:`InvalidSignature` unless Twilio signed this request for this function.
    ``form_pairs``: the form body already parsed (as ``shared.http.Incoming.form_pairs``);
    ``signature_settings``: the ``X-Twilio-Webhooks-Signature-Settings`` header, if any."""
    signature = _header(signature, PROVIDER, SIGNATURE_HEADER)
    token, algorithm = _key_and_algorithm(settings, signature_settings)
    if isinstance(query_string, (bytes, bytearray)):  # werkzeug's request.query_string is bytes
        query_string = bytes(query_string).decode("latin-1")
    url = settings.function_url(function_name) + (f"?{query_string}" if query_string else "")

    # Decide the same way the validator does: from the query of the URL it is given.
    body_hashed = bool(query_string) and "bodySHA256" in parse_qs(urlsplit(url).query)
    params: str | _FormParams
    if body_hashed:
        params = _text(raw_body, PROVIDER)
    elif not raw_body:
        params = _FormParams([])
    elif (content_type or "").split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        params = _FormParams(form_pairs) if form_pairs is not None else _form_params(raw_body)
    else:
        raise InvalidSignature(PROVIDER, "body not covered by the signature")

    validator = _validator(token)
    try:
        # The common case in one HMAC: our URL as configured (no port), which is what Twilio signs
        # for an https URL on the default port. Anything else gets the SDK's full check, which
        # also tries the URL with the port and checks a JSON body's hash.
        valid = (not body_hashed and algorithm is None and signature.isascii() and ":" not in urlsplit(url).netloc
                 and hmac.compare_digest(validator.compute_signature(url, params), signature))
        valid = valid or validator.validate(url, params, signature, algorithm)
    except Exception:  # noqa: BLE001 - whatever the SDK trips on, the request is not proven
        raise InvalidSignature(PROVIDER, "signature could not be checked") from None
    if not valid:
        raise InvalidSignature(PROVIDER, "body hash or signature mismatch" if body_hashed else "signature mismatch")
