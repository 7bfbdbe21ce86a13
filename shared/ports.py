"""Ports: the small interfaces the services use. Two implementations each (gcp/ and local/),
held to the same behaviour by tests/contract.

Conventions shared by every adapter:

* Document paths alternate collection/id: ``tenants/t1/calls/c1``. A collection path has an odd
  number of segments (``tenants/t1/calls``). Ids never contain ``/``.
* Document values are JSON types plus timezone-aware ``datetime`` (always returned in UTC).
  Nested dicts are allowed; field paths in queries use dots (``settings.plan``).
* Failures of the backing service raise :class:`StoreUnavailable` (or the SDK's own error
  subclasses of it where wrapped) so a webhook answers 5xx and the sender retries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Protocol, Sequence, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from shared.config import Settings

T = TypeVar("T")

Op = Literal["==", "<", "<=", ">", ">=", "in", "array-contains"]
Direction = Literal["asc", "desc"]


class StoreError(Exception):
    """Base of the errors the ports raise."""


class NotFound(StoreError):
    """The document (or blob) does not exist."""


class AlreadyExists(StoreError):
    """``create`` of a document that exists."""


class Conflict(StoreError):
    """A transaction kept colliding with concurrent writers and gave up."""


class StoreUnavailable(StoreError):
    """The backing service failed or is unreachable: retry later."""


@dataclass(frozen=True)
class Document:
    path: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Order:
    field: str
    direction: Direction = "asc"


@dataclass
class Query:
    """A query over one collection. Semantics follow Firestore:

    * every filter must hold; a document missing a filtered or ordered field is excluded;
    * results are ordered by ``order`` then by document id (in the direction of the last order,
      ascending without one), so pages are stable;
    * ``start_after`` is a document previously returned by the same query (cursor);
    * ``limit`` caps the page size.
    """

    collection: str
    filters: Sequence[Filter] = ()
    order: Sequence[Order] = ()
    limit: int | None = None
    start_after: Document | None = None

    def where(self, field: str, op: Op, value: Any) -> "Query":
        return Query(self.collection, (*self.filters, Filter(field, op, value)), self.order, self.limit, self.start_after)

    def order_by(self, field: str, direction: Direction = "asc") -> "Query":
        return Query(self.collection, self.filters, (*self.order, Order(field, direction)), self.limit, self.start_after)

    def page(self, limit: int, start_after: Document | None = None) -> "Query":
        return Query(self.collection, self.filters, self.order, limit, start_after)


class Transaction(Protocol):
    """Reads first, then writes; all writes commit together or not at all. The function passed
    to :meth:`DocumentStore.transaction` may run more than once (contention), so it must not
    have side effects outside the transaction."""

    def get(self, path: str) -> dict[str, Any] | None: ...
    def query(self, query: Query) -> list[Document]: ...
    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None: ...
    def create(self, path: str, data: dict[str, Any]) -> None: ...  # AlreadyExists at commit
    def update(self, path: str, data: dict[str, Any]) -> None: ...  # NotFound at commit
    def delete(self, path: str) -> None: ...


class WriteBatch(Protocol):
    """Blind writes applied atomically on ``commit`` (at most 500)."""

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None: ...
    def update(self, path: str, data: dict[str, Any]) -> None: ...
    def delete(self, path: str) -> None: ...
    def commit(self) -> None: ...


@runtime_checkable
class DocumentStore(Protocol):
    def get(self, path: str) -> dict[str, Any] | None: ...
    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]: ...
    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None: ...
    def create(self, path: str, data: dict[str, Any]) -> bool:
        """Create-if-absent. True if this call created it, False if it already existed."""
        ...
    def update(self, path: str, data: dict[str, Any]) -> None:
        """Merge top-level fields (dotted keys reach into maps) into an existing document;
        :class:`NotFound` if there is none."""
        ...
    def delete(self, path: str) -> None: ...  # no error when absent
    def query(self, query: Query) -> list[Document]: ...
    def stream(self, query: Query, page_size: int = 300) -> Iterator[Document]: ...
    def transaction(self, fn: Callable[[Transaction], T], *, attempts: int = 5) -> T: ...
    def batch(self) -> WriteBatch: ...
    def list_collections(self, path: str | None = None) -> list[str]:
        """Ids of the collections directly under a document (or the root)."""
        ...


@dataclass(frozen=True)
class Delivery:
    """One message as a subscriber receives it (both backends)."""

    topic: str
    data: bytes
    attributes: dict[str, str]
    message_id: str


@runtime_checkable
class EventBus(Protocol):
    """Fan-out of domain events (Pub/Sub). Delivery is at-least-once, order not guaranteed."""

    def publish(self, topic: str, data: bytes, attributes: dict[str, str] | None = None) -> str:
        """Publish and wait until the bus has accepted the message; returns its message id.
        Both adapters add the attribute ``z3_topic`` (the logical topic name, as given here)
        so a subscriber knows what it received. Raises :class:`StoreUnavailable` when the bus
        cannot take it."""
        ...


@dataclass(frozen=True)
class TaskRef:
    name: str
    created: bool  # False when a task of that name already existed (deduplicated)


@runtime_checkable
class TaskQueue(Protocol):
    """One target per task (Cloud Tasks HTTP tasks): POST ``body`` to the function ``target``
    with retries and backoff. A task ``name`` deduplicates: enqueueing a name twice creates one
    task (Cloud Tasks remembers names for about an hour after deletion; the local queue for
    ever)."""

    def enqueue(
        self,
        target: str,
        body: bytes,
        *,
        name: str | None = None,
        schedule_time: dt.datetime | None = None,
        headers: dict[str, str] | None = None,
    ) -> TaskRef: ...


@dataclass(frozen=True)
class BlobInfo:
    path: str
    size: int
    sha256: str
    content_type: str


@runtime_checkable
class BlobStore(Protocol):
    def put(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> BlobInfo: ...
    def put_stream(self, path: str, chunks: Iterable[bytes], *,
                   content_type: str = "application/octet-stream") -> BlobInfo:
        """Write a blob from an iterable of chunks without holding it whole (exports): the blob
        appears when the iterable is exhausted; an exception from it leaves no blob."""
        ...
    def get(self, path: str) -> bytes: ...  # NotFound
    def stat(self, path: str) -> BlobInfo | None: ...
    def delete(self, path: str) -> None: ...  # no error when absent
    def list(self, prefix: str) -> list[str]: ...
    def signed_url(self, path: str, *, expires: dt.timedelta, content_type: str | None = None,
                   download_as: str | None = None) -> str | None:
        """A URL that reads the blob directly (HTTP Range included) until ``expires`` from now,
        for whoever holds it (GCS: a V4 signed URL), or None where blobs are served only through
        the app (local files: the caller signs its own route). ``download_as`` makes the answer
        an attachment of that name."""
        ...


@runtime_checkable
class Cipher(Protocol):
    """Authenticated envelope encryption. ``context`` is bound into the ciphertext (AAD): a
    token encrypted for tenant A cannot be decrypted as tenant B's."""

    def encrypt(self, plaintext: bytes, context: str) -> bytes: ...
    def decrypt(self, ciphertext: bytes, context: str) -> bytes: ...  # ValueError when tampered


class Clock(Protocol):
    def now(self) -> dt.datetime: ...  # timezone-aware, UTC


class Ports(Protocol):
    """Everything a service uses, handed to it as one argument (``ports: Ports``): the instance's
    settings and the ports, each built on first use. ``shared.runtime.Ports`` builds them from
    Settings (the wiring); services name only this type, never the wiring."""

    settings: "Settings"

    def store(self) -> DocumentStore: ...
    def bus(self) -> EventBus: ...
    def tasks(self) -> TaskQueue: ...
    def blobs(self) -> BlobStore: ...
    def cipher(self) -> Cipher: ...
    def clock(self) -> Clock: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


@dataclass
class FixedClock:
    """A clock tests move by hand."""

    current: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc))

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current = self.current + dt.timedelta(**delta)
        return self.current


def stream_pages(run: Callable[[Query], list[Document]], query: Query, page_size: int = 300) -> Iterator[Document]:
    """Every result of ``query`` (up to its limit), fetched ``page_size`` at a time with cursors:
    the shared body of ``DocumentStore.stream``."""
    if page_size < 1:
        raise ValueError("page_size must be positive")
    remaining = query.limit
    cursor = query.start_after
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        page = run(query.page(size, cursor))
        yield from page
        if len(page) < size:
            return
        cursor = page[-1]
        if remaining is not None:
            remaining -= len(page)


def check_document_path(path: str) -> str:
    parts = path.split("/")
    if len(parts) % 2 or any(not p for p in parts):
        raise ValueError(f"not a document path: {path!r}")
    return path


def check_collection_path(path: str) -> str:
    parts = path.split("/")
    if len(parts) % 2 == 0 or any(not p for p in parts):
        raise ValueError(f"not a collection path: {path!r}")
    return path
