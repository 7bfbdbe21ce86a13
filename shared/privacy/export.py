"""Export: a zip of a tenant's data (or of one caller's, by number) in the blob store under the
tenant, ``tenants/{t}/exports/{export_id}.zip``, and its record ``tenants/{t}/exports/{id}``.

Rules this module keeps:

* **Streamed**: the zip is produced entry by entry into :meth:`BlobStore.put_stream` (zipfile
  writes data descriptors on a stream it cannot seek), documents read a page at a time, so
  memory stays flat however large the account (``scripts/bench retention`` measures it);
* one JSON file per collection (``calls.json``, ``messages.json``, ``consent.json`` with each
  number's events ...), the recordings under ``recordings/``, and ``README.txt`` naming what each
  file holds; never a secret: password hashes, 2FA secrets, encrypted tokens and session data
  are left out (:data:`SECRET_KEYS`);
* the record carries ``expire_at`` = 7 days and the ``blob_path``: the retention sweep deletes
  the archive and then the record (blob first), Firestore TTL and the bucket's lifecycle rule
  are the backstop;
* a caller's export holds only what names the number (as the caller deletion finds it).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator

from shared.ports import Document, Ports, Query
from shared.privacy.erase import names_number
from shared.tenants import UnknownTenant

KEEP = dt.timedelta(days=7)
SECRET_KEYS = ("password", "secret", "totp", "recovery", "token", "encrypted", "csrf")
SKIP_COLLECTIONS = frozenset({"exports", "holds"})
FLUSH_BYTES = 256 * 1024

DESCRIPTIONS = {
    "calls": "every call: who called, when, how it was routed, its status history, transcript and summary",
    "call_facts": "a short summary of each call (used for notifications and reports)",
    "messages": "every text message in and out: numbers, body, time, delivery status",
    "contacts": "the contacts the business keeps (name and number)",
    "appointments": "appointments booked by the AI agent or in the dashboard",
    "consent": "the SMS consent ledger: per number its state and every opt-in/opt-out event",
    "emails": "emails we sent for the business (notifications), their delivery status",
    "audit": "the account's audit log: sign-ins, setting and team changes",
    "users": "the team members (name, email, role); no passwords or 2FA secrets",
    "sms_sends": "the send gate's records of texts it sent or refused",
    "overview_days": "the overview's daily counts of calls, bookings and texts (numbers only)",
}


@dataclass
class ExportResult:
    export_id: str
    blob_path: str
    size: int
    expires_at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    recordings: int = 0

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.export_id, "blob_path": self.blob_path, "size": self.size, "expires_at": self.expires_at,
                "expire_at": self.expires_at, "counts": self.counts, "recordings": self.recordings}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not any(word in k.lower() for word in SECRET_KEYS)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class _Sink(io.RawIOBase):
    """What zipfile writes to: collects bytes until the generator hands them on."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._size += len(chunk)
        self._pos += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._pos

    def pending(self) -> int:
        return self._size

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return out


def _docs(ports: Ports, collection: str, number: str | None, call_sids: set[str]) -> Iterator[Document]:
    for doc in ports.store().stream(Query(collection)):
        if number is None or names_number(doc, number, call_sids):
            yield doc


def _zip(ports: Ports, tenant_id: str, number: str | None, result: ExportResult) -> Iterator[bytes]:
    store, root = ports.store(), f"tenants/{tenant_id}"
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    call_sids: set[str] = set()
    if number is not None:
        call_sids = {d.id for d in _docs(ports, f"{root}/calls", number, set())}
    recording_blobs: list[tuple[str, str]] = []
    names = sorted(set(store.list_collections(root)) - SKIP_COLLECTIONS)
    for name in names:
        count = 0
        with archive.open(f"{name}.json", "w") as entry:
            entry.write(b"[")
            for doc in _docs(ports, f"{root}/{name}", number, call_sids):
                data = _clean(doc.data)
                if name == "consent":
                    data["events"] = [_clean(e.data) for e in store.stream(Query(f"{doc.path}/events"))]
                if name == "calls":
                    recording_blobs += [(doc.id, r["blob_path"]) for r in doc.data.get("recordings") or []
                                        if isinstance(r, dict) and r.get("blob_path")]
                entry.write((b"," if count else b"") + b"\n" + json.dumps(
                    {"id": doc.id, **data}, ensure_ascii=False, default=str).encode())
                count += 1
                if sink.pending() >= FLUSH_BYTES:
                    yield sink.drain()
            entry.write(b"\n]\n")
        result.counts[name] = count
        yield sink.drain()
    for call_sid, path in recording_blobs:
        if ports.blobs().stat(path) is None:
            continue
        with archive.open(f"recordings/{call_sid}/{path.rsplit('/', 1)[-1]}", "w") as entry:
            entry.write(ports.blobs().get(path))
        result.recordings += 1
        yield sink.drain()
    archive.writestr("README.txt", _readme(tenant_id, number, names, result))
    archive.close()
    yield sink.drain()


def _readme(tenant_id: str, number: str | None, names: list[str], result: ExportResult) -> str:
    lines = [f"Z3 OS data export {result.export_id}", "",
             f"Business: {tenant_id}" + (" (one caller's data)" if number else ""), "",
             "Each .json file is a list of records, one per document, with its id.", ""]
    for name in names:
        lines.append(f"{name}.json ({result.counts.get(name, 0)} records): "
                     f"{DESCRIPTIONS.get(name, 'records of this kind the account holds')}")
    lines += [f"recordings/ ({result.recordings} files): the call recordings, one folder per call", "",
              "Left out: passwords, two-factor secrets and sign-in tokens (never exported).", ""]
    return "\n".join(lines)


def export(ports: Ports, *, tenant_id: str, export_id: str, number: str | None = None) -> ExportResult:
    """Write the archive and its record; idempotent per ``export_id`` (a finished export is
    returned as it is; a half-written one is written again)."""
    store = ports.store()
    root = f"tenants/{tenant_id}"
    if store.get(root) is None:
        raise UnknownTenant(tenant_id)
    record_path = f"{root}/exports/{export_id}"
    existing = store.get(record_path)
    if existing is not None and existing.get("state") == "ready":
        return ExportResult(export_id, existing["blob_path"], existing["size"], existing["expires_at"],
                            dict(existing.get("counts") or {}), int(existing.get("recordings") or 0))
    now = ports.clock().now()
    blob_path = f"{root}/exports/{export_id}.zip"
    result = ExportResult(export_id, blob_path, 0, now + KEEP)
    # the record first (with blob_path and expire_at): a crash after the upload leaves a record the
    # sweep finds, never an archive nothing names
    store.set(record_path, {**result.to_doc(), "state": "writing", "created_at": now})
    info = ports.blobs().put_stream(blob_path, _zip(ports, tenant_id, number, result), content_type="application/zip")
    result.size = info.size
    store.set(record_path, {**result.to_doc(), "state": "ready", "created_at": now})
    return result
