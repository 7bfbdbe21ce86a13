"""The deletion cascade: a whole account (:func:`erase_account`) or one caller's data within a
tenant (:func:`erase_caller`, also the path for a request about a child under 13), each ending
in a **deletion certificate** (``deletion_certificates/{job_id}``: ids, counts, times and what
was kept and why -- never a number, an address or content).

Rules this module keeps:

* **Order**: the providers' copies first (they are found through our documents), then our
  blobs, then the documents that point to them, the documents naming a caller before that
  caller's calls (whose sids find them), the tenant document and the global indexes last. A
  crash anywhere leaves what is still needed to finish: a retry walks again and finds only what
  is left (every step is idempotent: deleting the absent, erasing what a provider no longer has).
* **Counts never disagree with the deletions**: each page of deletions commits in one batch
  with the certificate's running counts; a retried job continues the counts.
* **Holds**: what a hold covers is kept and counted (``held``); a tenant hold keeps everything.
* **Kept by law**: the SMS consent ledger (``consent/``) is kept -- after a caller's deletion it
  is the suppression that keeps the number from ever being texted again; after an account's
  deletion it is the record of consent the policy keeps 5 years (the retention sweep deletes it
  then, through ``deleted_tenants/{t}``, the tombstone that replaces the tenant document).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterator

from shared import consent
from shared.logging import get_logger
from shared.phone import mask, normalize_us
from shared.ports import Document, DocumentStore, Ports, Query
from shared.privacy import erasers, holds
from shared.privacy.holds import NUMBER_FIELDS, HoldSet
from shared.retention.policy import recording_blobs
from shared.tenants import TenantScope, UnknownTenant

log = get_logger("z3.privacy")

CERTIFICATES = "deletion_certificates"
TOMBSTONES = "deleted_tenants"
KEPT_ALWAYS = frozenset({"consent"})
# global collections that point at a tenant by ``tenant_id`` (ids only): released / removed
GLOBAL_INDEXES = ("phone_numbers", "user_logins", "sessions", "retell_calls", "email_messages")
PAGE = 200

CONSENT_KEPT = {"what": "SMS consent records (consent/)",
                "why": "the suppression that keeps the number from being texted again, and the record of "
                       "consent the policy keeps 5 years; they hold no message content"}
HELD = {"what": "data under a legal hold", "why": "a legal hold placed by an operator (see the hold ids)"}


class DeletionRefused(Exception):
    """Nothing can be deleted as asked (a tenant hold on an account deletion ...)."""


@dataclass
class Certificate:
    job_id: str
    tenant_id: str
    scope: str  # "account" | "caller"
    subject: str  # "the account" or the masked number
    started_at: dt.datetime
    completed_at: dt.datetime | None = None
    deleted: dict[str, int] = field(default_factory=dict)  # collection -> documents
    blobs: int = 0
    providers: dict[str, int] = field(default_factory=dict)  # eraser name -> objects erased
    held: int = 0
    holds: list[str] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "tenant_id": self.tenant_id, "scope": self.scope, "subject": self.subject,
                "started_at": self.started_at, "completed_at": self.completed_at, "deleted": self.deleted,
                "blobs": self.blobs, "providers": self.providers, "held": self.held, "holds": self.holds,
                "kept": self.kept}

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> "Certificate":
        return cls(**{k: data.get(k) for k in ("job_id", "tenant_id", "scope", "subject", "started_at",
                                                "completed_at")},
                   deleted=dict(data.get("deleted") or {}), blobs=int(data.get("blobs") or 0),
                   providers=dict(data.get("providers") or {}), held=int(data.get("held") or 0),
                   holds=list(data.get("holds") or []), kept=list(data.get("kept") or []))

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def certificate(store: DocumentStore, job_id: str) -> Certificate | None:
    data = store.get(f"{CERTIFICATES}/{job_id}")
    return Certificate.from_doc(data) if data else None


class _Job:
    def __init__(self, ports: Ports, cert: Certificate, held: HoldSet) -> None:
        self.ports, self.store, self.cert, self.held = ports, ports.store(), cert, held
        self.path = f"{CERTIFICATES}/{cert.job_id}"

    def save(self) -> None:
        self.store.set(self.path, self.cert.to_doc())

    def erase_providers(self, source: erasers.Source, data: dict[str, Any]) -> None:
        for eraser in erasers.of(source):
            for target in eraser.targets(data):
                if eraser.erase(self.ports, target):
                    self.cert.providers[eraser.name] = self.cert.providers.get(eraser.name, 0) + 1
            self.cert.providers.setdefault(eraser.name, 0)
        self.save()

    def delete_blobs(self, paths: list[str]) -> None:
        for path in paths:
            if self.ports.blobs().stat(path) is not None:
                self.ports.blobs().delete(path)
                self.cert.blobs += 1
        self.save()

    def delete_docs(self, collection: str, docs: list[Document]) -> None:
        """One batch: the documents and the certificate's counts."""
        for start in range(0, len(docs), PAGE):
            page = docs[start:start + PAGE]
            batch = self.store.batch()
            for doc in page:
                self.delete_children(doc.path)
                batch.delete(doc.path)
            self.cert.deleted[collection] = self.cert.deleted.get(collection, 0) + len(page)
            batch.set(self.path, self.cert.to_doc())
            batch.commit()

    def delete_children(self, doc_path: str) -> None:
        for sub in self.store.list_collections(doc_path):
            docs = list(self.store.stream(Query(f"{doc_path}/{sub}")))
            if docs:
                self.delete_docs(sub, docs)

    def keep(self, doc: Document) -> bool:
        if self.held.covers_doc(doc.id, doc.data):
            self.cert.held += 1
            return True
        return False


def _start(ports: Ports, job_id: str, tenant_id: str, scope: str, subject: str) -> tuple[_Job, bool]:
    store = ports.store()
    existing = certificate(store, job_id)
    held = holds.active(store, tenant_id)
    if existing is not None:
        existing.held = 0  # recounted by this walk
        return _Job(ports, existing, held), existing.completed_at is not None
    hold_ids = [h.id for h in holds.list_holds(store, tenant_id)]
    cert = Certificate(job_id=job_id, tenant_id=tenant_id, scope=scope, subject=subject,
                       started_at=ports.clock().now(), holds=hold_ids,
                       kept=[CONSENT_KEPT, *([HELD] if hold_ids else [])])
    job = _Job(ports, cert, held)
    job.save()
    return job, False


def _stream(store: DocumentStore, collection: str) -> Iterator[Document]:
    yield from store.stream(Query(collection))


def names_number(doc: Document, number: str, call_sids: set[str]) -> bool:
    return (doc.id == number or any(doc.data.get(f) == number for f in NUMBER_FIELDS)
            or (doc.data.get("call_sid") in call_sids if doc.data.get("call_sid") else False))


def erase_caller(ports: Ports, *, tenant_id: str, number: str, job_id: str) -> Certificate:
    """Delete one caller's calls (with recordings, transcripts and the providers' copies),
    messages, contacts, appointments and everything else naming the number; keep the consent
    ledger. Idempotent per ``job_id``: a replay of a finished job returns its certificate."""
    number = normalize_us(number)
    store = ports.store()
    if store.get(f"tenants/{tenant_id}") is None:
        raise UnknownTenant(tenant_id)
    held = holds.active(store, tenant_id)
    if held.tenant or number in held.numbers:
        raise DeletionRefused("a legal hold covers this caller's data")
    job, finished = _start(ports, job_id, tenant_id, "caller", mask(number))
    if finished:
        return job.cert
    # 0. the suppression first: from now on the send gate refuses the number, whatever it had said
    consent.record(TenantScope(store, tenant_id), number, action="opt_out", method="web", source_type="web",
                   source_id=f"privacy-{job_id}", now=ports.clock().now(),
                   disclosure="Data deleted at the person's request: never text this number again.")
    root = f"tenants/{tenant_id}"
    calls = [doc for doc in _stream(store, f"{root}/calls") if names_number(doc, number, set())]
    calls = [doc for doc in calls if not job.keep(doc)]
    sids = {doc.id for doc in calls}
    for doc in calls:  # 1. the providers' copies and our recordings; the documents stay for now
        job.erase_providers("call", doc.data)
        job.delete_blobs(recording_blobs(doc.data))
    # the privacy requests are the record of the request itself (kept as the law asks), the audit
    # log names no number
    for name in sorted(set(store.list_collections(root)) - KEPT_ALWAYS - {"calls", "holds", "audit", "privacy_requests"}):
        doomed = [doc for doc in _stream(store, f"{root}/{name}") if names_number(doc, number, sids)]
        job.delete_docs(name, [doc for doc in doomed if not job.keep(doc)])  # 2. what names the caller
    job.delete_docs("calls", calls)  # 3. the calls last: their sids found the rest
    job.cert.completed_at = ports.clock().now()
    job.save()
    log.info("caller data deleted", extra={"tenant_id": tenant_id, "job_id": job_id, "documents": job.cert.total,
                                           "blobs": job.cert.blobs})
    return job.cert


def erase_account(ports: Ports, *, tenant_id: str, job_id: str) -> Certificate:
    """Delete the whole account: providers' copies, blobs, every document under the tenant but
    the consent ledger (and what a hold covers), sessions, the number registry and the other
    global indexes, then the tenant document (a tombstone takes its place). Idempotent per
    ``job_id``."""
    store = ports.store()
    tenant_doc = store.get(f"tenants/{tenant_id}")
    tombstone = store.get(f"{TOMBSTONES}/{tenant_id}")
    if tenant_doc is None and tombstone is None:
        raise UnknownTenant(tenant_id)
    if tenant_doc is not None and holds.active(store, tenant_id).tenant:
        raise DeletionRefused("a legal hold covers the whole account")
    job, finished = _start(ports, job_id, tenant_id, "account", "the account")
    if finished:
        return job.cert
    root = f"tenants/{tenant_id}"
    if tenant_doc is not None:  # stop the service first: no new data while we delete
        store.update(root, {"status": "closed", "status_reason": "account deletion in progress"})
        job.erase_providers("tenant", tenant_doc)
    for doc in _stream(store, f"{root}/calls"):
        if not job.held.covers_doc(doc.id, doc.data):
            job.erase_providers("call", doc.data)
    held_blobs = {b for doc in _stream(store, f"{root}/calls") if job.held.covers_doc(doc.id, doc.data)
                  for b in recording_blobs(doc.data)}
    job.delete_blobs([b for b in ports.blobs().list(f"{root}/") if b not in held_blobs])
    for name in sorted(set(store.list_collections(root)) - KEPT_ALWAYS - {"holds"}):
        job.delete_docs(name, [doc for doc in _stream(store, f"{root}/{name}") if not job.keep(doc)])
    for name in GLOBAL_INDEXES:
        job.delete_docs(name, list(store.stream(Query(name).where("tenant_id", "==", tenant_id))))
    if job.cert.held == 0:
        store.set(f"{TOMBSTONES}/{tenant_id}", {"tenant_id": tenant_id, "deleted_at": ports.clock().now(),
                                                "certificate": job_id})
        holds_left = list(_stream(store, f"{root}/holds"))
        job.delete_docs("holds", holds_left)
        store.delete(root)
    job.cert.completed_at = ports.clock().now()
    job.save()
    log.info("account deleted", extra={"tenant_id": tenant_id, "job_id": job_id, "documents": job.cert.total,
                                       "blobs": job.cert.blobs, "held": job.cert.held})
    return job.cert
