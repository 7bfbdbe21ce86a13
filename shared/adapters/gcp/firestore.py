"""DocumentStore on Cloud Firestore (Native mode), or on its emulator.

Values go in as the ports describe them (JSON types plus timezone-aware datetimes) and come
back the same way: Firestore's ``DatetimeWithNanoseconds`` become plain UTC ``datetime``.

Queries are sent with their full ordering made explicit (the given orders, then any inequality
field not ordered yet, then the document id, in the direction of the last order: exactly the
order Firestore applies implicitly) so that a ``start_after`` cursor carries a value for every
ordered field plus the document id, and pages never skip or repeat documents that tie.

Every call has a short deadline (``Z3_STORE_DEADLINE_SECONDS``, default 5 s, as RPC timeout and
as the deadline of its retries) instead of the client's 60-300 s defaults: a webhook that cannot reach Firestore should fail fast with
:class:`StoreUnavailable` and let the sender retry.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable, Iterator, Sequence, TypeVar

from google.api_core import exceptions as gex
from google.api_core import retry as retries
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.gcp.errors import is_unavailable, unavailable_as_store_error
from shared.config import Settings
from shared.ports import (
    AlreadyExists,
    Conflict,
    Document,
    NotFound,
    Order,
    Query,
    StoreUnavailable,
    check_collection_path,
    check_document_path,
    stream_pages,
)

try:  # the messages of the ValueErrors the transaction helper raises (see _library_cause)
    from google.cloud.firestore_v1.base_transaction import _CANT_ROLLBACK, _EXCEED_ATTEMPTS_TEMPLATE
except ImportError:  # pragma: no cover - a library version that renamed them
    _CANT_ROLLBACK = "The transaction has no transaction ID, so it cannot be rolled back."
    _EXCEED_ATTEMPTS_TEMPLATE = "Failed to commit transaction in {:d} attempts."

T = TypeVar("T")

BATCH_LIMIT = 500
TX_BACKOFF = 0.25  # seconds: the first retry of a contended transaction waits up to this
TX_BACKOFF_CAP = 2.0
_INEQUALITIES = frozenset({"<", "<=", ">", ">="})
_OPS = {"==": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "in", "array-contains": "array_contains"}
_UTC = dt.timezone.utc


def _retry(deadline: float, *transient: type[Exception]) -> retries.Retry:
    return retries.Retry(initial=0.1, maximum=2.0, multiplier=2.0, timeout=deadline,
                         predicate=retries.if_exception_type(*transient))


def call_options(deadline: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``retry``/``timeout`` keywords of every read and every write RPC, bounded by ``deadline``.
    Reads are safe to repeat on any transient error; a write only when it surely did not happen."""
    read = _retry(deadline, gex.ServiceUnavailable, gex.DeadlineExceeded, gex.InternalServerError,
                  gex.ResourceExhausted)
    write = _retry(deadline, gex.ServiceUnavailable, gex.ResourceExhausted)
    return {"retry": read, "timeout": deadline}, {"retry": write, "timeout": deadline}


# --- values -----------------------------------------------------------------------------------

def to_firestore(value: Any) -> Any:
    """Check and normalise a value before writing (tuples become lists; naive datetimes refused)."""
    if isinstance(value, dict):
        return {str(k): to_firestore(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (list, tuple)) for v in value):
            raise TypeError("cannot store a list directly inside a list (Firestore refuses it)")
        return [to_firestore(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware datetimes only")
        return value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def from_firestore(value: Any) -> Any:
    """Firestore's values as the ports promise them: plain ``datetime`` in UTC, recursively."""
    if isinstance(value, dict):
        return {k: from_firestore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_firestore(v) for v in value]
    if isinstance(value, dt.datetime):
        utc = value.astimezone(_UTC) if value.tzinfo is not None else value
        return dt.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond,
                           tzinfo=_UTC)
    return value


def _field_path(dotted: str) -> str:
    """A dotted port field path as Firestore's (quoting segments such as ``+1303...`` or ``a:b``)."""
    return FieldPath(*dotted.split(".")).to_api_repr()


def _update_data(data: dict[str, Any]) -> dict[str, Any]:
    return {_field_path(key): to_firestore(value) for key, value in data.items()}


def _snapshot_data(snapshot: Any) -> dict[str, Any] | None:
    return from_firestore(snapshot.to_dict() or {}) if snapshot.exists else None


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"cursor document lacks the ordered field {dotted!r}")
        value = value[part]
    return value


def _direction(order: Order) -> str:
    return firestore.Query.DESCENDING if order.direction == "desc" else firestore.Query.ASCENDING


# --- the store --------------------------------------------------------------------------------

class FirestoreStore:
    def __init__(self, client: firestore.Client, deadline: float = 5.0) -> None:
        self._client = client
        self._read, self._write = call_options(deadline)

    @classmethod
    def from_settings(cls, settings: Settings) -> "FirestoreStore":
        host = settings.firestore_emulator_host
        if host:
            from google.auth.credentials import AnonymousCredentials

            client = firestore.Client(project=settings.project, credentials=AnonymousCredentials())
            # The library takes the emulator from FIRESTORE_EMULATOR_HOST when the client is built
            # and talks to production otherwise; make it follow Settings instead.
            client._emulator_host = host  # noqa: SLF001
        else:
            client = firestore.Client(project=settings.project)
        return cls(client, settings.z3_store_deadline_seconds)

    @property
    def client(self) -> firestore.Client:
        return self._client

    def _doc(self, path: str) -> Any:
        return self._client.document(check_document_path(path))

    # -- single documents --------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any] | None:
        ref = self._doc(path)
        with unavailable_as_store_error("firestore get"):
            return _snapshot_data(ref.get(**self._read))

    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        refs = {path: self._doc(path) for path in paths}
        found: dict[str, dict[str, Any] | None] = {}
        if refs:
            with unavailable_as_store_error("firestore get_many"):
                for snapshot in self._client.get_all(list(refs.values()), **self._read):
                    found[snapshot.reference.path] = _snapshot_data(snapshot)
        return {path: found.get(ref.path) for path, ref in refs.items()}

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        ref = self._doc(path)
        payload = to_firestore(data)
        with unavailable_as_store_error("firestore set"):
            ref.set(payload, merge=merge, **self._write)

    def create(self, path: str, data: dict[str, Any]) -> bool:
        ref = self._doc(path)
        payload = to_firestore(data)
        try:
            with unavailable_as_store_error("firestore create"):
                ref.create(payload, **self._write)
        except gex.AlreadyExists:
            return False
        return True

    def update(self, path: str, data: dict[str, Any]) -> None:
        ref = self._doc(path)
        payload = _update_data(data)
        try:
            with unavailable_as_store_error("firestore update"):
                ref.update(payload, **self._write)
        except gex.NotFound as exc:
            raise NotFound(path) from exc

    def delete(self, path: str) -> None:
        ref = self._doc(path)
        with unavailable_as_store_error("firestore delete"):
            ref.delete(**self._write)

    # -- queries -----------------------------------------------------------------------------
    def _build(self, query: Query) -> Any:
        check_collection_path(query.collection)
        q: Any = self._client.collection(query.collection)
        for flt in query.filters:
            op = _OPS.get(flt.op)
            if op is None:
                raise ValueError(f"unsupported operator {flt.op!r}")
            value = list(flt.value) if flt.op == "in" else flt.value
            q = q.where(filter=FieldFilter(_field_path(flt.field), op, value))
        if query.order or query.start_after is not None:
            orders = list(query.order)
            ordered = {o.field for o in orders}
            last = orders[-1].direction if orders else "asc"
            for name in sorted({f.field for f in query.filters if f.op in _INEQUALITIES} - ordered):
                orders.append(Order(name, last))
            for order in orders:
                q = q.order_by(_field_path(order.field), direction=_direction(order))
            q = q.order_by(FieldPath.document_id(), direction=_direction(Order("__name__", last)))
            if query.start_after is not None:
                cursor = query.start_after
                if check_document_path(cursor.path).rsplit("/", 1)[0] != query.collection:
                    raise ValueError(f"cursor {cursor.path!r} is not in {query.collection!r}")
                values = [_lookup(cursor.data, o.field) for o in orders]
                q = q.start_after([*values, self._client.document(cursor.path)])
        if query.limit is not None:
            q = q.limit(int(query.limit))
        return q

    def query(self, query: Query) -> list[Document]:
        q = self._build(query)
        with unavailable_as_store_error("firestore query"):
            return [Document(s.reference.path, from_firestore(s.to_dict() or {})) for s in q.stream(**self._read)]

    def stream(self, query: Query, page_size: int = 300) -> Iterator[Document]:
        """Every result of ``query`` (up to its limit), fetched ``page_size`` at a time."""
        return stream_pages(self.query, query, page_size)

    # -- transactions and batches --------------------------------------------------------------
    def transaction(self, fn: Callable[["FirestoreTransaction"], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in a read-write transaction, retried on contention up to ``attempts`` times.

        ``create`` of an existing document and ``update`` of a missing one fail the commit with
        :class:`AlreadyExists` / :class:`NotFound` (not retried); contention that outlasts the
        attempts raises :class:`Conflict`. Each attempt is a fresh transaction (the library's own
        retry only covers contention at commit, not a read that loses a lock), after a jittered
        exponential pause: on the emulator, whose lock manager settles a deadlock only by a 2 s
        lock timeout, this pause is what keeps four writers on one document from deadlocking
        again and again (measured: ~4 s instead of ~20 s for 20 contended increments)."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        last: BaseException | None = None
        for attempt in range(attempts):
            if attempt:  # full jitter: colliding writers spread out instead of colliding again
                time.sleep(random.uniform(0, min(TX_BACKOFF_CAP, TX_BACKOFF * 2 ** (attempt - 1))))
            try:
                return self._attempt(fn)
            except _Contention as exc:
                last = exc.__cause__
        raise Conflict(f"transaction gave up after {attempts} attempts: {last}") from last

    def _attempt(self, fn: Callable[["FirestoreTransaction"], T]) -> T:
        run = firestore.transactional(lambda tx: fn(FirestoreTransaction(self, tx)))
        try:
            return run(self._client.transaction(max_attempts=1))
        except Exception as exc:
            cause = _library_cause(exc)
            if isinstance(cause, gex.Aborted):  # lost to a concurrent transaction (read or commit)
                raise _Contention() from cause
            if isinstance(cause, gex.AlreadyExists):
                raise AlreadyExists(str(cause.message)) from cause
            if isinstance(cause, gex.NotFound):
                raise NotFound(str(cause.message)) from cause
            if is_unavailable(cause):
                raise StoreUnavailable(f"firestore transaction: {type(cause).__name__}: {cause}") from cause
            raise

    def batch(self) -> "FirestoreBatch":
        return FirestoreBatch(self)

    def list_collections(self, path: str | None = None) -> list[str]:
        parent = self._client if path is None else self._doc(path)
        with unavailable_as_store_error("firestore list_collections"):
            return sorted(c.id for c in parent.collections(**self._read))

    def close(self) -> None:
        self._client.close()


def _library_cause(exc: Exception) -> BaseException:
    """The Google error behind the ``ValueError`` the transaction helper raises when its one
    attempt failed to commit, or when rolling back a transaction that never began masks the
    error that stopped it from beginning; ``exc`` itself otherwise."""
    if isinstance(exc, ValueError) and str(exc) in (_EXCEED_ATTEMPTS_TEMPLATE.format(1), _CANT_ROLLBACK):
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, gex.GoogleAPIError):
            return inner
    return exc


class _Contention(Exception):
    """One transaction attempt lost to concurrent writers (its cause is the ``Aborted``)."""


class FirestoreTransaction:
    """The :class:`shared.ports.Transaction` over one Firestore transaction attempt."""

    def __init__(self, store: FirestoreStore, transaction: Any) -> None:
        self._store = store
        self._tx = transaction

    def get(self, path: str) -> dict[str, Any] | None:
        return _snapshot_data(self._store._doc(path).get(transaction=self._tx, **self._store._read))

    def query(self, query: Query) -> list[Document]:
        q = self._store._build(query)
        return [Document(s.reference.path, from_firestore(s.to_dict() or {}))
                for s in q.get(transaction=self._tx, **self._store._read)]

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        self._tx.set(self._store._doc(path), to_firestore(data), merge=merge)

    def create(self, path: str, data: dict[str, Any]) -> None:
        self._tx.create(self._store._doc(path), to_firestore(data))

    def update(self, path: str, data: dict[str, Any]) -> None:
        self._tx.update(self._store._doc(path), _update_data(data))

    def delete(self, path: str) -> None:
        self._tx.delete(self._store._doc(path))


class FirestoreBatch:
    """Blind writes committed atomically in one request (at most :data:`BATCH_LIMIT`)."""

    def __init__(self, store: FirestoreStore) -> None:
        self._store = store
        self._batch = store.client.batch()
        self._count = 0

    def _add(self) -> None:
        if self._count >= BATCH_LIMIT:
            raise ValueError(f"a batch holds at most {BATCH_LIMIT} writes")
        self._count += 1

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        ref = self._store._doc(path)
        self._add()
        self._batch.set(ref, to_firestore(data), merge=merge)

    def create(self, path: str, data: dict[str, Any]) -> None:
        """Fails the whole batch with :class:`AlreadyExists` at commit if the document exists."""
        ref = self._store._doc(path)
        self._add()
        self._batch.create(ref, to_firestore(data))

    def update(self, path: str, data: dict[str, Any]) -> None:
        ref = self._store._doc(path)
        self._add()
        self._batch.update(ref, _update_data(data))

    def delete(self, path: str) -> None:
        ref = self._store._doc(path)
        self._add()
        self._batch.delete(ref)

    def commit(self) -> None:
        if not self._count:
            return
        try:
            with unavailable_as_store_error("firestore batch"):
                self._batch.commit(**self._store._write)
        except gex.NotFound as exc:
            raise NotFound(str(exc.message)) from exc
        except gex.AlreadyExists as exc:  # a create() of the batch: nothing was written
            raise AlreadyExists(str(exc.message)) from exc
        self._batch = self._store.client.batch()
        self._count = 0
