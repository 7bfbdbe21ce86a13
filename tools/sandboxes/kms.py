"""A loopback Cloud KMS: ``cryptoKeys.encrypt`` and ``cryptoKeys.decrypt`` in the REST wire format.

Enough of Cloud KMS for :class:`shared.adapters.gcp.kms.KmsCipher` (and any other caller of
``KeyManagementServiceClient(transport="rest")``) to run unchanged against it:

* ``POST /v1/{name=projects/*/locations/*/keyRings/*/cryptoKeys/**}:encrypt`` with a JSON body
  ``{"plaintext", "additionalAuthenticatedData"?, "plaintextCrc32c"?,
  "additionalAuthenticatedDataCrc32c"?}`` (bytes as base64, int64 as decimal strings or numbers;
  the resource name is in the path, as the client sends it). Answers ``{"name": <the key
  version used>, "ciphertext", "ciphertextCrc32c", "verifiedPlaintextCrc32c"?,
  "verifiedAdditionalAuthenticatedDataCrc32c"?, "protectionLevel"}``.
* ``POST /v1/{name=projects/*/locations/*/keyRings/*/cryptoKeys/*}:decrypt`` with
  ``{"ciphertext", "additionalAuthenticatedData"?, "ciphertextCrc32c"?,
  "additionalAuthenticatedDataCrc32c"?}``; answers ``{"plaintext", "plaintextCrc32c",
  "usedPrimary", "protectionLevel"}``.

Like the real service: proto3 JSON (false booleans omitted, int64 as strings, enums as numbers
when the client asks ``$alt=json;enum-encoding=int`` — the generated REST transport always
does — else as names); 64 KiB limits on plaintext and AAD; checksum mismatches, a wrong AAD or
another key's ciphertext answer HTTP 400 with Google's error JSON
``{"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT"}}`` (decrypt failures carry
KMS's own message, "Decryption failed: verify that 'name' refers to the correct CryptoKey.").
Unknown JSON fields are refused as the real API does, so a client bug shows up here first.

Not modelled: authentication/IAM (any caller may use any key), key management (every well-formed
key name exists, with one primary version ``1``), rotation, and the other KMS methods (404).

Keys: each CryptoKey's AES-256 key is HMAC-SHA256(seed, key name), so a sandbox restarted with the
same seed still decrypts what an earlier one encrypted (persisted dev data keeps working).

Failure injection for tests: :meth:`KmsSandbox.fail_next` answers the next requests with an error
(``UNAVAILABLE``/503 by default); :attr:`KmsSandbox.calls` counts successful requests per method.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import json
import os
import re
import threading
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

DEFAULT_SEED = b"z3-kms-sandbox-seed-v1"
MAX_PLAINTEXT = 64 * 1024
MAX_AAD = 64 * 1024
MAX_CIPHERTEXT = 10 * MAX_PLAINTEXT  # the real limit is larger than any ciphertext we produce
FORMAT = 1
NONCE = 12
PROTECTION_SOFTWARE = ("SOFTWARE", 1)
PRIMARY_VERSION = "1"

_KEY = r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/:]+"
ROUTES = {
    "encrypt": re.compile(rf"^/v1/(?P<key>{_KEY})(?:/cryptoKeyVersions/(?P<version>[^/:]+))?:encrypt$"),
    "decrypt": re.compile(rf"^/v1/(?P<key>{_KEY}):decrypt$"),
}

# JSON field -> proto field (the names KMS reports in errors). Both spellings are accepted, as
# protobuf's JSON parser does.
_FIELDS = {
    "encrypt": {"plaintext": "plaintext", "additionalAuthenticatedData": "additional_authenticated_data",
                "plaintextCrc32c": "plaintext_crc32c",
                "additionalAuthenticatedDataCrc32c": "additional_authenticated_data_crc32c", "name": "name"},
    "decrypt": {"ciphertext": "ciphertext", "additionalAuthenticatedData": "additional_authenticated_data",
                "ciphertextCrc32c": "ciphertext_crc32c",
                "additionalAuthenticatedDataCrc32c": "additional_authenticated_data_crc32c", "name": "name"},
}

_HTTP = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403,
         "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "INTERNAL": 500, "UNAVAILABLE": 503,
         "DEADLINE_EXCEEDED": 504}


class KmsError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise KmsError("INVALID_ARGUMENT", f"Invalid value at '{field}' (TYPE_BYTES), {json.dumps(value)}")
    text = value.replace("-", "+").replace("_", "/")  # proto JSON accepts both alphabets
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KmsError("INVALID_ARGUMENT", f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed "
                                           f"for {json.dumps(value)}") from None


def _int64(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise KmsError("INVALID_ARGUMENT", f"Invalid value at '{field}' (type.googleapis.com/google.protobuf."
                                           f"Int64Value), {json.dumps(value)}")
    try:
        return int(value)
    except ValueError:
        raise KmsError("INVALID_ARGUMENT", f"Invalid value at '{field}' (type.googleapis.com/google.protobuf."
                                           f"Int64Value), {json.dumps(value)}") from None


class KmsSandbox(Sandbox):
    """Cloud KMS encrypt/decrypt over REST, in memory (see the module docstring)."""

    name = "kms"

    def __init__(self, seed: bytes | str = DEFAULT_SEED) -> None:
        super().__init__()
        self._seed = seed.encode() if isinstance(seed, str) else bytes(seed)
        self._keys: dict[str, AESGCM] = {}
        self._lock = threading.Lock()
        self._faults: collections.deque[tuple[str, str]] = collections.deque()
        self.calls: collections.Counter[str] = collections.Counter()

    # --- test controls ----------------------------------------------------------------------

    def fail_next(self, times: int = 1, status: str = "UNAVAILABLE",
                  message: str = "The service is currently unavailable.") -> None:
        """Answer the next ``times`` encrypt/decrypt requests with this error instead."""
        if status not in _HTTP:
            raise ValueError(f"unknown status {status!r}; one of {sorted(_HTTP)}")
        with self._lock:
            self._faults.extend([(status, message)] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- the app ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        numeric_enums = "enum-encoding=int" in request.args.get("$alt", "")
        try:
            if request.method != "POST":
                raise KmsError("NOT_FOUND", f"Method not found: {request.method} {request.path}")
            for method, route in ROUTES.items():  # noqa: B007 - read after the break
                match = route.match(request.path)
                if match:
                    break
            else:
                raise KmsError("NOT_FOUND", f"Method not found: {request.path}")
            with self._lock:
                fault = self._faults.popleft() if self._faults else None
            if fault:
                raise KmsError(*fault)
            body = self._body(request, method)
            if method == "encrypt":
                result = self._encrypt(match["key"], match["version"], body, numeric_enums)
            else:
                result = self._decrypt(match["key"], body, numeric_enums)
            with self._lock:
                self.calls[method] += 1
            return self.json(result)
        except KmsError as exc:
            return self.error(exc.status, exc.message)

    def internal_error(self, request: Request) -> Response:
        return self.error("INTERNAL", "Internal error encountered.")

    def error(self, status: str, message: str) -> Response:
        code = _HTTP[status]
        return self.json({"error": {"code": code, "message": message, "status": status}}, status=code)

    # --- methods ----------------------------------------------------------------------------

    def _encrypt(self, key: str, version: str | None, body: dict[str, Any], numeric_enums: bool) -> dict[str, Any]:
        if version is not None and version != PRIMARY_VERSION:
            raise KmsError("NOT_FOUND", f"CryptoKeyVersion {key}/cryptoKeyVersions/{version} not found.")
        plaintext = _unb64(body.get("plaintext", ""), "plaintext")
        aad = _unb64(body.get("additionalAuthenticatedData", ""), "additional_authenticated_data")
        if not plaintext:
            raise KmsError("INVALID_ARGUMENT", "The request field plaintext must be non-empty.")
        if len(plaintext) > MAX_PLAINTEXT:
            raise KmsError("INVALID_ARGUMENT", f"The request field plaintext exceeds {MAX_PLAINTEXT} bytes.")
        if len(aad) > MAX_AAD:
            raise KmsError("INVALID_ARGUMENT",
                           f"The request field additional_authenticated_data exceeds {MAX_AAD} bytes.")
        verified_plaintext = self._check_crc(body, "plaintextCrc32c", "plaintext_crc32c", plaintext, "plaintext")
        verified_aad = self._check_crc(body, "additionalAuthenticatedDataCrc32c",
                                       "additional_authenticated_data_crc32c", aad, "additional_authenticated_data")
        nonce = os.urandom(NONCE)
        ciphertext = bytes([FORMAT]) + nonce + self._aead(key).encrypt(nonce, plaintext, aad)
        result: dict[str, Any] = {
            "name": f"{key}/cryptoKeyVersions/{PRIMARY_VERSION}",
            "ciphertext": _b64(ciphertext),
            "ciphertextCrc32c": str(crc32c(ciphertext)),
        }
        if verified_plaintext:
            result["verifiedPlaintextCrc32c"] = True
        if verified_aad:
            result["verifiedAdditionalAuthenticatedDataCrc32c"] = True
        result["protectionLevel"] = PROTECTION_SOFTWARE[1] if numeric_enums else PROTECTION_SOFTWARE[0]
        return result

    def _decrypt(self, key: str, body: dict[str, Any], numeric_enums: bool) -> dict[str, Any]:
        ciphertext = _unb64(body.get("ciphertext", ""), "ciphertext")
        aad = _unb64(body.get("additionalAuthenticatedData", ""), "additional_authenticated_data")
        if not ciphertext:
            raise KmsError("INVALID_ARGUMENT", "The request field ciphertext must be non-empty.")
        if len(ciphertext) > MAX_CIPHERTEXT:
            raise KmsError("INVALID_ARGUMENT", "The request field ciphertext is too large.")
        if len(aad) > MAX_AAD:
            raise KmsError("INVALID_ARGUMENT",
                           f"The request field additional_authenticated_data exceeds {MAX_AAD} bytes.")
        self._check_crc(body, "ciphertextCrc32c", "ciphertext_crc32c", ciphertext, "ciphertext")
        self._check_crc(body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c",
                        aad, "additional_authenticated_data")
        if len(ciphertext) < 1 + NONCE + 16 or ciphertext[0] != FORMAT:
            raise KmsError("INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
        nonce, sealed = ciphertext[1:1 + NONCE], ciphertext[1 + NONCE:]
        try:
            plaintext = self._aead(key).decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise KmsError("INVALID_ARGUMENT",
                           "Decryption failed: verify that 'name' refers to the correct CryptoKey.") from None
        return {
            "plaintext": _b64(plaintext),
            "plaintextCrc32c": str(crc32c(plaintext)),
            "usedPrimary": True,
            "protectionLevel": PROTECTION_SOFTWARE[1] if numeric_enums else PROTECTION_SOFTWARE[0],
        }

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _body(request: Request, method: str) -> dict[str, Any]:
        raw = request.get_data(cache=False)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise KmsError("INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise KmsError("INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        fields = _FIELDS[method]
        snake = {proto: json_name for json_name, proto in fields.items()}
        normalised: dict[str, Any] = {}
        for name, value in body.items():
            json_name = name if name in fields else snake.get(name)
            if json_name is None:
                raise KmsError("INVALID_ARGUMENT", f'Invalid JSON payload received. Unknown name "{name}": '
                                                   "Cannot find field.")
            if value is not None:
                normalised[json_name] = value
        return normalised

    @staticmethod
    def _check_crc(body: dict[str, Any], json_name: str, proto_name: str, data: bytes, data_field: str) -> bool:
        if json_name not in body:
            return False
        if _int64(body[json_name], proto_name) != crc32c(data):
            raise KmsError("INVALID_ARGUMENT",
                           f"The checksum in field {proto_name} did not match the data in field {data_field}.")
        return True

    def _aead(self, key: str) -> AESGCM:
        with self._lock:
            aead = self._keys.get(key)
            if aead is None:
                material = hmac.new(self._seed, b"z3-kms-sandbox/" + key.encode(), hashlib.sha256).digest()
                aead = self._keys[key] = AESGCM(material)
            return aead
