"""Cipher on Cloud KMS: envelope encryption with a per-message data key wrapped by a KMS key.

Each ``encrypt`` draws a fresh 256-bit data key (DEK), seals the plaintext with it locally
(AES-256-GCM) and asks Cloud KMS to wrap the DEK under ``Z3_KMS_KEY`` (a symmetric
``ENCRYPT_DECRYPT`` CryptoKey) with ``context`` as KMS's additional authenticated data. The key
material never leaves KMS; what we store is only useful to someone who may call
``cryptoKeys.decrypt`` on that key with the right context. Unwrapped DEKs are not cached: every
``decrypt`` is one KMS call, so revoking the decrypter role takes effect at once.

Wire format, version 1::

    offset  size  field
    0       1     version = 0x01
    1       2     length L of the wrapped DEK (unsigned, big endian)
    3       L     wrapped DEK (the KMS ``ciphertext``; it names the key version itself)
    3+L     12    nonce
    15+L    n+16  AES-GCM ciphertext + tag of the plaintext under the DEK

AAD: KMS layer = ``context`` (UTF-8); data layer = version byte + ``b"z3.kms\\0"`` + ``context``.

Requests carry CRC32C checksums of what they send and the responses' checksums are verified
(Google's "end-to-end data integrity" recipe); a mismatch is treated as a transient failure.

Errors: any Cloud KMS or transport failure raises :class:`StoreUnavailable` (the caller answers
5xx and is retried), except a ``decrypt`` that KMS rejects as ``INVALID_ARGUMENT`` (wrong context,
tampered wrapped key, another key's ciphertext) and any local authentication failure, which raise
``ValueError``. A missing or malformed ``Z3_KMS_KEY`` raises :class:`ConfigurationError` on first
use, so importing and building this adapter never fails.

``Z3_KMS_ENDPOINT`` points the client at the loopback sandbox ``tools/sandboxes/kms.py`` instead:
REST transport, anonymous credentials, the URL's own ``http://`` scheme (the REST transport keeps
a scheme given in ``api_endpoint`` and only prepends ``https://`` to bare hosts). Because those
requests carry no credentials, a non-loopback endpoint is refused unless the settings point at
the emulators.

Google libraries are imported inside methods: importing this module costs nothing.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from shared.config import ConfigurationError, is_loopback_host
from shared.ports import StoreUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings


VERSION = 1
DEK_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_LEN = struct.Struct(">H")
_DATA_LABEL = b"z3.kms\x00"
MAX_AAD = 64 * 1024  # Cloud KMS limit on additional_authenticated_data

KEY_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")


def _context_bytes(context: str) -> bytes:
    if not isinstance(context, str):
        raise TypeError(f"context must be a str, not {type(context).__name__}")
    ctx = context.encode("utf-8")
    if len(ctx) > MAX_AAD:
        raise ValueError(f"context is {len(ctx)} bytes; Cloud KMS accepts at most {MAX_AAD}")
    return ctx


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


def _status(exc: BaseException) -> str:
    """The canonical status (``INVALID_ARGUMENT``...) of a Google API error, over gRPC or REST.

    Over REST, api-core picks the exception class from the HTTP code alone (every 400 becomes
    ``BadRequest``), so the canonical status is read back from the JSON error body."""
    code = getattr(exc, "grpc_status_code", None)
    if code is not None:
        return getattr(code, "name", str(code))
    response = getattr(exc, "response", None)
    try:
        status = response.json()["error"]["status"]  # type: ignore[union-attr]
    except Exception:
        status = None
    if isinstance(status, str) and status:
        return status
    return "INVALID_ARGUMENT" if getattr(exc, "code", None) == 400 else "UNKNOWN"


class KmsCipher:
    """Envelope encryption under a Cloud KMS key (see the module docstring)."""

    def __init__(
        self,
        key_name: str | None,
        *,
        endpoint: str | None = None,
        allow_remote_endpoint: bool = False,
        timeout: float = 5.0,
        deadline: float = 15.0,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._key_name = key_name
        self._endpoint = endpoint
        self._allow_remote_endpoint = allow_remote_endpoint
        self._timeout = timeout
        self._deadline = deadline
        self._client_factory = client_factory
        self._client: Any = None
        self._retry: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: "Settings") -> "KmsCipher":
        return cls(settings.z3_kms_key, endpoint=settings.kms_endpoint, allow_remote_endpoint=settings.emulated)

    # --- the port ---------------------------------------------------------------------------

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        ctx = _context_bytes(context)
        dek = AESGCM.generate_key(bit_length=DEK_SIZE * 8)
        wrapped = self._wrap(dek, ctx)
        if len(wrapped) > 0xFFFF:
            raise StoreUnavailable(f"Cloud KMS returned a {len(wrapped)}-byte wrapped key")
        nonce = os.urandom(NONCE_SIZE)
        sealed = AESGCM(dek).encrypt(nonce, bytes(plaintext), bytes([VERSION]) + _DATA_LABEL + ctx)
        return b"".join((bytes([VERSION]), _LEN.pack(len(wrapped)), wrapped, nonce, sealed))

    def decrypt(self, ciphertext: bytes, context: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        ctx = _context_bytes(context)
        blob = bytes(ciphertext)
        if len(blob) < 1 + _LEN.size:
            raise ValueError("ciphertext is truncated")
        if blob[0] != VERSION:
            raise ValueError(f"unknown ciphertext version {blob[0]}")
        (wrapped_len,) = _LEN.unpack_from(blob, 1)
        start = 1 + _LEN.size
        if wrapped_len == 0 or len(blob) < start + wrapped_len + NONCE_SIZE + TAG_SIZE:
            raise ValueError("ciphertext is truncated")
        wrapped = blob[start:start + wrapped_len]
        nonce = blob[start + wrapped_len:start + wrapped_len + NONCE_SIZE]
        sealed = blob[start + wrapped_len + NONCE_SIZE:]
        dek = self._unwrap(wrapped, ctx)
        if len(dek) != DEK_SIZE:
            raise ValueError("the wrapped data key is not a data key of this format")
        try:
            return AESGCM(dek).decrypt(nonce, sealed, bytes([VERSION]) + _DATA_LABEL + ctx)
        except InvalidTag:
            raise ValueError("ciphertext failed authentication (tampered, or wrong context)") from None

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        transport = getattr(client, "transport", None)
        if transport is not None:
            transport.close()

    # --- KMS calls --------------------------------------------------------------------------

    def _wrap(self, dek: bytes, ctx: bytes) -> bytes:
        request = {
            "name": self._key(),
            "plaintext": dek,
            "additional_authenticated_data": ctx,
            "plaintext_crc32c": _crc32c(dek),
            "additional_authenticated_data_crc32c": _crc32c(ctx),
        }
        response = self._call("encrypt", request)
        if not response.verified_plaintext_crc32c or not response.verified_additional_authenticated_data_crc32c:
            raise StoreUnavailable("Cloud KMS encrypt: request corrupted in transit (checksum not verified)")
        wrapped = bytes(response.ciphertext)
        if not wrapped or int(response.ciphertext_crc32c or 0) != _crc32c(wrapped):
            raise StoreUnavailable("Cloud KMS encrypt: response corrupted in transit (ciphertext checksum)")
        return wrapped

    def _unwrap(self, wrapped: bytes, ctx: bytes) -> bytes:
        request = {
            "name": self._key(),
            "ciphertext": wrapped,
            "additional_authenticated_data": ctx,
            "ciphertext_crc32c": _crc32c(wrapped),
            "additional_authenticated_data_crc32c": _crc32c(ctx),
        }
        response = self._call("decrypt", request)
        dek = bytes(response.plaintext)
        if int(response.plaintext_crc32c or 0) != _crc32c(dek):
            raise StoreUnavailable("Cloud KMS decrypt: response corrupted in transit (plaintext checksum)")
        return dek

    def _call(self, method: str, request: dict[str, Any]) -> Any:
        from google.api_core import exceptions as gex

        client = self._get_client()
        try:
            return getattr(client, method)(request=request, retry=self._retry, timeout=self._timeout)
        except gex.GoogleAPICallError as exc:
            status = _status(exc)
            if method == "decrypt" and status == "INVALID_ARGUMENT":
                raise ValueError(f"Cloud KMS refused to unwrap the data key (tampered, or wrong context): "
                                 f"{exc.message}") from None
            raise StoreUnavailable(f"Cloud KMS {method} failed: {status}: {exc.message}") from exc
        except gex.RetryError as exc:
            raise StoreUnavailable(f"Cloud KMS {method} kept failing: {exc}") from exc
        except StoreUnavailable:
            raise
        except Exception as exc:
            if _is_transport_error(exc):
                raise StoreUnavailable(f"Cloud KMS {method} unreachable: {type(exc).__name__}: {exc}") from exc
            raise

    def _key(self) -> str:
        key = (self._key_name or "").strip()
        if not key:
            raise ConfigurationError("Z3_KMS_KEY is not set: the gcp backend needs a Cloud KMS key "
                                     "(projects/P/locations/L/keyRings/R/cryptoKeys/K) to encrypt secrets")
        if not KEY_NAME.match(key):
            raise ConfigurationError(f"Z3_KMS_KEY must name a CryptoKey (projects/P/locations/L/keyRings/R/"
                                     f"cryptoKeys/K, no cryptoKeyVersions), got {key!r}")
        return key

    def _get_client(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._key()  # configuration errors before any client is built
                    self._retry = self._build_retry()
                    self._client = (self._client_factory or self._build_client)()
                client = self._client
        return client

    def _build_retry(self) -> Any:
        from google.api_core import exceptions as gex
        from google.api_core import retry as retries

        # Google's default for encrypt/decrypt retries for 60 s; a webhook cannot wait that long.
        return retries.Retry(
            initial=0.1, maximum=2.0, multiplier=2.0, timeout=self._deadline,
            predicate=retries.if_exception_type(gex.ServiceUnavailable, gex.DeadlineExceeded),
        )

    def _build_client(self) -> Any:
        from google.cloud import kms_v1

        if not self._endpoint:
            return kms_v1.KeyManagementServiceClient()
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = self._endpoint.rstrip("/")
        if "://" not in endpoint:
            endpoint = "http://" + endpoint
        if not (self._allow_remote_endpoint or is_loopback_host(urlsplit(endpoint).hostname)):
            raise ConfigurationError(f"Z3_KMS_ENDPOINT={self._endpoint!r} is not a loopback address: it is meant "
                                     "for the KMS sandbox and sends no credentials; unset it to use Cloud KMS")
        return kms_v1.KeyManagementServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
        )


def _is_transport_error(exc: BaseException) -> bool:
    try:
        from google.auth.exceptions import RefreshError, TransportError
        from requests.exceptions import ConnectionError as RequestsConnectionError, Timeout
    except ImportError:  # pragma: no cover - both ship with every Google client
        return isinstance(exc, (ConnectionError, TimeoutError))
    return isinstance(exc, (TransportError, RefreshError, RequestsConnectionError, Timeout,
                            ConnectionError, TimeoutError))
