"""The retention sweep (``retention_sweep``, daily; ``scripts/ops retention sweep``): deletes
what :mod:`shared.retention.policy` says is past its time, tenant by tenant, collection by
collection, skipping what a legal hold covers (:mod:`shared.privacy.holds`).

Rules this module keeps:

* **Blob first, then the document that points to it.** A crash between the two leaves a
  document pointing at a blob that is gone; the next sweep finds the document again (it is
  still past its time), deletes the blob again (no error when absent) and then the document.
  The other order would leave a blob no document names, which no sweep could ever find.
* **Resumable.** A run has an id (``retention_runs/{run_id}``) and, per tenant and collection,
  a cursor document (``retention_runs/{run_id}/cursors/{tenant}:{collection}``) holding the
  last document handled and the counts so far. The cursor is written **in the same batch** as
  the page's deletions, so counts and position never disagree with what was deleted. A run
  killed half-way and started again with the same id continues where it stopped; one started
  with a new id finds the same documents by their dates: the end state is the same.
* **Idempotent**: deleting what is absent is a no-op; a second sweep finds nothing due.
* **Bounded time**: with ``budget_seconds`` the sweep stops after the page that exhausts it and
  queues a continuation task for ``retention_sweep`` with the run id (named after the position,
  so a retried run queues it once).
* **Dry run**: the same walk, nothing written, nothing deleted; the report says what would go.
* Consent chains are deleted only by their own 5-year rule, never with a caller's other data.

The report (``retention_runs/{run_id}``): per tenant and collection ``due`` (past its time),
``deleted`` (documents), ``recordings`` (blobs), ``transcripts`` (cleared), ``held`` (skipped
because a hold covers it); ``errors`` (per tenant, the error's type, never content).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.ports import Document, DocumentStore, Ports, Query, StoreUnavailable
from shared.privacy import holds as holds_mod
from shared.privacy.holds import HoldSet
from shared.retention import policy

log = get_logger("z3.retention")

RUNS = "retention_runs"
TOMBSTONES = "deleted_tenants"  # written by shared.privacy.erase
REPORT_KEEP = dt.timedelta(days=400)  # run reports and cursors: Firestore TTL removes them after
PAGE = 450  # a page's deletions and its cursor in one batch: under Firestore's 500 writes
CALL_PAGE = 200  # a call page writes up to 2 documents each (the call and its facts) plus its cursor
COUNT_KEYS = ("due", "deleted", "recordings", "transcripts", "held")


def _zero() -> dict[str, int]:
    return {key: 0 for key in COUNT_KEYS}


@dataclass
class SweepReport:
    run_id: str
    as_of: dt.datetime
    dry_run: bool
    complete: bool = True
    tenants: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    continuation: str | None = None
    would_delete: list[str] = field(default_factory=list)  # dry run: the document paths

    def count(self, tenant_id: str, collection: str) -> dict[str, int]:
        return self.tenants.setdefault(tenant_id, {}).setdefault(collection, _zero())

    def total(self, key: str) -> int:
        return sum(c[key] for colls in self.tenants.values() for c in colls.values())

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "complete": self.complete, "tenants": self.tenants, "errors": self.errors,
                "continuation": self.continuation,
                "totals": {key: self.total(key) for key in COUNT_KEYS},
                **({"would_delete": self.would_delete} if self.dry_run else {})}


class _OutOfTime(Exception):
    def __init__(self, position: str) -> None:
        self.position = position


def run_id_for(as_of: dt.datetime) -> str:
    return "run-" + as_of.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")


def run_exists(ports: Ports, run_id: str) -> bool:
    return ports.store().get(f"{RUNS}/{run_id}") is not None


def daily_as_of(now: dt.datetime) -> dt.datetime:
    """The scheduled run's time: midnight UTC of today, so a retried run the same day is the same run."""
    return now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


class _Walk:
    """One run over the store; ``step`` of each rule decides per document and fills a page plan."""

    def __init__(self, ports: Ports, report: SweepReport, *, budget_seconds: float | None, page: int,
                 on_page: Callable[[], None] | None) -> None:
        self.ports = ports
        self.store: DocumentStore = ports.store()
        self.report = report
        self.deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        self.page = page
        self.on_page = on_page
        self.now = report.as_of

    # --- one collection -------------------------------------------------------------------
    def collection(self, tenant_id: str, name: str, query: Query, field_name: str,
                   plan: Callable[[Document, "_Plan"], None], page: int | None = None) -> None:
        page = min(page or self.page, self.page)
        counts = self.report.count(tenant_id, name)
        cursor_path = f"{RUNS}/{self.report.run_id}/cursors/{tenant_id}:{name}"
        state = None if self.report.dry_run else self.store.get(cursor_path)
        after: Document | None = None
        if state:
            counts.update({k: int(state.get("counts", {}).get(k, 0)) for k in COUNT_KEYS})
            if state.get("done"):
                return
            if state.get("last_path"):
                after = Document(state["last_path"], {field_name: state["last_value"]})
        while True:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise _OutOfTime(f"{tenant_id}:{name}:{after.path if after else ''}")
            docs = self.store.query(query.page(page, after))
            todo = _Plan()
            for doc in docs:
                plan(doc, todo)
            for key, value in todo.counts.items():
                counts[key] += value
            done = len(docs) < page
            if docs:
                after = docs[-1]
            if self.report.dry_run:
                self.report.would_delete.extend(todo.deletes)
            else:
                for blob in todo.blobs:  # first: see the module docstring
                    self.ports.blobs().delete(blob)
                for path in todo.children:  # a consent chain's events, before its state document
                    self._delete_children(path)
                batch = self.store.batch()
                for path in todo.deletes:
                    batch.delete(path)
                for path, patch in todo.updates:
                    batch.update(path, patch)
                batch.set(cursor_path, {"counts": dict(counts), "done": done, "updated_at": self.now,
                                        "expire_at": self.now + REPORT_KEEP,
                                        "last_path": after.path if after else None,
                                        "last_value": after.data.get(field_name) if after else None})
                batch.commit()
            if self.on_page is not None:
                self.on_page()
            if done:
                return

    def _delete_children(self, doc_path: str) -> None:
        for sub in self.store.list_collections(doc_path):
            while True:
                docs = self.store.query(Query(f"{doc_path}/{sub}").page(400))
                if not docs:
                    break
                batch = self.store.batch()
                for doc in docs:
                    batch.delete(doc.path)
                batch.commit()

    # --- the rules ------------------------------------------------------------------------
    def tenant(self, tenant: Tenant) -> None:
        root = f"tenants/{tenant.id}"
        held = holds_mod.active(self.store, tenant.id)
        calls = policy.CallRetention.of(tenant.settings)
        if calls.first is not None:  # None: recordings and transcripts kept until deleted
            self.collection(tenant.id, "calls",
                            Query(f"{root}/calls").where("created_at", "<=", self.now - calls.first)
                            .order_by("created_at"),
                            "created_at", lambda doc, plan: _call(doc, plan, calls, held, self.now, root), CALL_PAGE)
        self.collection(tenant.id, "consent",
                        Query(f"{root}/consent").where("expire_at", "<=", self.now).order_by("expire_at"),
                        "expire_at", lambda doc, plan: _chain(doc, plan, held), CALL_PAGE)
        for name in sorted(set(self.store.list_collections(root)) - policy.SPECIAL):
            self.collection(tenant.id, name,
                            Query(f"{root}/{name}").where("expire_at", "<=", self.now).order_by("expire_at"),
                            "expire_at", lambda doc, plan: _expired(doc, plan, held))

    def deleted_tenant(self, tenant_id: str) -> None:
        """A deleted account keeps its consent ledger until the ledger's own 5 years are up
        (``shared.privacy.erase``); nothing else of it is left."""
        self.collection(tenant_id, "consent",
                        Query(f"tenants/{tenant_id}/consent").where("expire_at", "<=", self.now).order_by("expire_at"),
                        "expire_at", lambda doc, plan: _chain(doc, plan, HoldSet()), CALL_PAGE)


@dataclass
class _Plan:
    deletes: list[str] = field(default_factory=list)
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=_zero)


def _call(doc: Document, plan: _Plan, rules: policy.CallRetention, held: HoldSet, now: dt.datetime,
          root: str) -> None:
    step = rules.step(doc.data, now)
    if step == "none":
        return
    plan.counts["due"] += 1
    if held.covers_doc(doc.id, doc.data):
        plan.counts["held"] += 1
        return
    if step in ("delete", "recordings"):
        blobs = policy.recording_blobs(doc.data)
        plan.blobs.extend(blobs)
        plan.counts["recordings"] += len(blobs)
    if step == "delete":
        plan.deletes.extend([f"{root}/call_facts/{doc.id}", doc.path])
        plan.counts["deleted"] += 1
    elif step == "recordings":
        plan.updates.append((doc.path, {"recordings": [], "recordings_deleted_at": now}))
    else:
        plan.updates.append((doc.path, {**{name: None for name in policy.TRANSCRIPT_FIELDS},
                                        "transcript_deleted_at": now}))
        plan.counts["transcripts"] += 1


def _chain(doc: Document, plan: _Plan, held: HoldSet) -> None:
    """A consent chain: its events and sources go before its state document."""
    _expired(doc, plan, held, with_children=True)


def _expired(doc: Document, plan: _Plan, held: HoldSet, *, with_children: bool = False) -> None:
    plan.counts["due"] += 1
    if held.covers_doc(doc.id, doc.data):
        plan.counts["held"] += 1
        return
    if with_children:
        plan.children.append(doc.path)
    if isinstance(doc.data.get("blob_path"), str):  # an export record: its archive goes first
        plan.blobs.append(doc.data["blob_path"])
    plan.deletes.append(doc.path)
    plan.counts["deleted"] += 1


def _tenants(store: DocumentStore) -> Iterator[Tenant]:
    for doc in store.stream(Query("tenants").order_by("created_at")):
        yield Tenant.from_doc(doc.data)


def sweep(ports: Ports, *, as_of: dt.datetime | None = None, dry_run: bool = False, run_id: str | None = None,
          budget_seconds: float | None = None, page: int = PAGE,
          on_page: Callable[[], None] | None = None) -> SweepReport:
    """Run (or continue) a sweep as of ``as_of`` (default: now). ``on_page`` is called after
    every page (tests kill the sweep there)."""
    store = ports.store()
    as_of = (as_of or ports.clock().now()).astimezone(dt.timezone.utc)
    run_id = run_id or run_id_for(as_of)
    run_path = f"{RUNS}/{run_id}"
    if not dry_run:
        existing = store.get(run_path)
        if existing is not None and existing.get("state") == "done":  # finished: its report, nothing more
            return SweepReport(run_id=run_id, as_of=existing["as_of"], dry_run=False,
                               tenants=existing.get("tenants") or {}, errors=existing.get("errors") or [])
        if existing is not None:
            as_of = existing["as_of"]  # a continuation runs as of the run's own time
        else:
            store.set(run_path, {"run_id": run_id, "as_of": as_of, "started_at": ports.clock().now(),
                                 "state": "running", "dry_run": False, "expire_at": as_of + REPORT_KEEP})
    report = SweepReport(run_id=run_id, as_of=as_of, dry_run=dry_run)
    walk = _Walk(ports, report, budget_seconds=budget_seconds, page=page, on_page=on_page)
    try:
        for tenant in _tenants(store):
            _guarded(report, tenant.id, walk.tenant, tenant)
        for doc in store.stream(Query(TOMBSTONES)):
            _guarded(report, doc.id, walk.deleted_tenant, doc.id)
    except _OutOfTime as stop:
        report.complete = False
        if not dry_run:
            report.continuation = _continue(ports, run_id, stop.position)
    if not dry_run:
        store.set(run_path, {"state": "done" if report.complete else "paused", "finished_at": ports.clock().now(),
                             "tenants": report.tenants, "errors": report.errors,
                             "totals": {key: report.total(key) for key in COUNT_KEYS}}, merge=True)
    log.info("retention sweep", extra={"run_id": run_id, "dry_run": dry_run, "complete": report.complete,
                                       **{key: report.total(key) for key in COUNT_KEYS}})
    return report


def _guarded(report: SweepReport, tenant_id: str, run: Callable[[Any], None], arg: Any) -> None:
    try:
        run(arg)
    except (StoreUnavailable, _OutOfTime):
        raise
    except Exception as exc:  # noqa: BLE001 - one tenant's bad data must not stop the others; reported
        log.error("retention sweep failed for a tenant", extra={"tenant_id": tenant_id, "error": type(exc).__name__})
        report.errors.append({"tenant_id": tenant_id, "error": type(exc).__name__})


def _continue(ports: Ports, run_id: str, position: str) -> str:
    digest = hashlib.sha256(position.encode()).hexdigest()[:16]
    name = f"retention-{run_id}-{digest}"
    ports.tasks().enqueue("retention_sweep", json.dumps({"run_id": run_id}).encode(), name=name,
                          headers={"Content-Type": "application/json"})
    return name
