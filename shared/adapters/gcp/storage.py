"""BlobStore on Cloud Storage (or ``gcp-storage-emulator``), in the bucket ``Z3_BUCKET``.

GCS keeps MD5/CRC32C but not SHA-256, so :meth:`GcsBlobStore.put` computes the digest locally
and stores it as the object's custom metadata ``sha256``; :meth:`stat` reads it back (and hashes
the content only for an object written by someone else).

:meth:`GcsBlobStore.signed_url` makes V4 signed URLs (the dashboard's recording player reads GCS
directly, with Range, and the bucket stays private). Who signs: credentials that hold a key
(a service-account key file) sign locally; the metadata server's credentials (Cloud Run, Cloud
Functions) cannot, so the library asks IAM's ``signBlob`` with the function's own service account
and access token (Terraform grants that account ``roles/iam.serviceAccountTokenCreator`` on
itself). The emulator checks no signature: a key made once per process signs there, and the URL
points at the emulator.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any, Iterable

from google.api_core import exceptions as gex
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.adapters.gcp.errors import unavailable_as_store_error
from shared.config import Settings
from shared.ports import BlobInfo, NotFound, StoreUnavailable

TIMEOUT = 60.0  # seconds per request (recordings and exports can be several MB)
RETRY_DEADLINE = 10.0  # seconds of retrying transient failures (the library's default is 120 s)
_RETRY = DEFAULT_RETRY.with_timeout(RETRY_DEADLINE)
_CALL: dict[str, Any] = {"timeout": TIMEOUT, "retry": _RETRY}
STREAM_CHUNK = 8 * 256 * 1024  # resumable upload chunks: a multiple of 256 KiB; what an export holds in memory


def check_blob_path(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a blob path: {path!r}")
    return path


class GcsBlobStore:
    def __init__(self, client: storage.Client, bucket: str, *, emulator_endpoint: str | None = None) -> None:
        self._client = client
        self._bucket = client.bucket(bucket)
        self._emulator_endpoint = emulator_endpoint  # signed URLs point there (see _signer)

    @classmethod
    def from_settings(cls, settings: Settings) -> "GcsBlobStore":
        return cls(make_client(settings), settings.z3_bucket, emulator_endpoint=settings.storage_emulator_endpoint)

    def put(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> BlobInfo:
        blob = self._bucket.blob(check_blob_path(path))
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        blob.metadata = {"sha256": digest}
        try:
            with unavailable_as_store_error("gcs put"):
                blob.upload_from_string(data, content_type=content_type, **_CALL)
        except gex.NotFound as exc:  # the bucket is missing (not provisioned yet): retry later
            raise StoreUnavailable(f"gcs put: {exc.message}") from exc
        return BlobInfo(path=path, size=len(data), sha256=digest, content_type=content_type)

    def put_stream(self, path: str, chunks: Iterable[bytes], *,
                   content_type: str = "application/octet-stream") -> BlobInfo:
        """A resumable upload fed chunk by chunk (``Blob.open("wb")``); the digest, known only at
        the end, is patched into the metadata after. An exception from ``chunks`` abandons the
        upload, so no blob appears."""
        blob = self._bucket.blob(check_blob_path(path))
        digest, size = hashlib.sha256(), 0
        try:
            with unavailable_as_store_error("gcs put_stream"):
                # the writer's __exit__ cancels the upload when ``chunks`` raises
                with blob.open("wb", content_type=content_type, chunk_size=STREAM_CHUNK, retry=_RETRY,
                               timeout=TIMEOUT) as writer:
                    for chunk in chunks:
                        writer.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                blob.metadata = {"sha256": digest.hexdigest()}
                blob.patch(**_CALL)
        except gex.NotFound as exc:
            raise StoreUnavailable(f"gcs put_stream: {exc.message}") from exc
        return BlobInfo(path=path, size=size, sha256=digest.hexdigest(), content_type=content_type)

    def get(self, path: str) -> bytes:
        blob = self._bucket.blob(check_blob_path(path))
        try:
            with unavailable_as_store_error("gcs get"):
                return blob.download_as_bytes(**_CALL)
        except gex.NotFound:
            raise NotFound(path) from None

    def stat(self, path: str) -> BlobInfo | None:
        with unavailable_as_store_error("gcs stat"):
            blob = self._bucket.get_blob(check_blob_path(path), **_CALL)
        if blob is None:
            return None
        digest = (blob.metadata or {}).get("sha256")
        if not digest:
            try:
                digest = hashlib.sha256(self.get(path)).hexdigest()
            except NotFound:
                return None
        return BlobInfo(path=path, size=int(blob.size or 0), sha256=digest,
                        content_type=blob.content_type or "application/octet-stream")

    def delete(self, path: str) -> None:
        blob = self._bucket.blob(check_blob_path(path))
        try:
            with unavailable_as_store_error("gcs delete"):
                blob.delete(**_CALL)
        except gex.NotFound:
            pass

    def list(self, prefix: str) -> list[str]:
        with unavailable_as_store_error("gcs list"):
            return sorted(b.name for b in self._client.list_blobs(self._bucket, prefix=prefix or None,
                                                                  **_CALL))

    def signed_url(self, path: str, *, expires: dt.timedelta, content_type: str | None = None,
                   download_as: str | None = None) -> str | None:
        blob = self._bucket.blob(check_blob_path(path))
        disposition = f'attachment; filename="{download_as}"' if download_as else None
        with unavailable_as_store_error("gcs sign"):
            return blob.generate_signed_url(version="v4", expiration=expires, method="GET",
                                            response_type=content_type, response_disposition=disposition,
                                            **self._signer())

    def _signer(self) -> dict[str, Any]:
        """How this client signs (see the module's docstring)."""
        import google.auth.credentials
        import google.auth.exceptions
        import google.auth.transport.requests

        if self._emulator_endpoint:
            return {"credentials": _emulator_signer(), "api_access_endpoint": self._emulator_endpoint}
        credentials = self._client._credentials
        if isinstance(credentials, google.auth.credentials.Signing):
            return {"credentials": credentials}
        try:
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.GoogleAuthError as exc:
            raise StoreUnavailable(f"gcs sign: no access token to sign with ({type(exc).__name__})") from exc
        return {"service_account_email": credentials.service_account_email, "access_token": credentials.token}

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()


def make_client(settings: Settings) -> Any:
    """A storage ``Client`` for the settings; with ``STORAGE_EMULATOR_HOST`` it talks to the
    emulator anonymously (the endpoint is passed explicitly: Settings, not the process
    environment, decides where blobs go)."""
    endpoint = settings.storage_emulator_endpoint
    if not endpoint:
        return storage.Client(project=settings.project)
    from google.auth.credentials import AnonymousCredentials

    return storage.Client(project=settings.project, credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


@functools.cache
def _emulator_signer() -> Any:
    """Service-account credentials with a key made for this process: the emulator serves a V4
    signed URL without checking its signature, so any RSA key gives the production URL's form."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return service_account.Credentials.from_service_account_info({
        "type": "service_account", "client_email": "z3-emulator@z3-local.iam.gserviceaccount.com",
        "private_key": pem, "private_key_id": "emulator", "token_uri": "https://oauth2.googleapis.com/token"})
