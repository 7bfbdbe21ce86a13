"""The embedded backend's one SQLite database: documents, the event outbox and the task queue.

Outbox and task rows move ``pending`` -> ``leased`` (one dispatcher is delivering it until
``next_attempt_at``, the lease's expiry) -> ``done`` | ``pending`` (retry) | ``dead``.

One connection per thread (SQLite connections are not shared across threads), WAL journal so
readers never block the writer, and ``BEGIN IMMEDIATE`` for every write transaction so two
writers serialise instead of failing half way.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from shared.ports import StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    parent TEXT NOT NULL,
    id     TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (parent, id)
) WITHOUT ROWID;
-- Firestore indexes every field by itself; the retention sweep's and TTL's field is the one whose
-- range query pages through whole collections (time linear in what it deletes, not quadratic)
CREATE INDEX IF NOT EXISTS docs_expire_at ON docs (parent, json_extract(data, '$.expire_at'));
-- Lists ordered by creation time (the dashboard's calls, texts, audit log) read their page in
-- index order instead of sorting the whole collection: a page costs the same at 1,000 and at
-- 100,000 documents, as it does on Firestore.
CREATE INDEX IF NOT EXISTS docs_created_at ON docs (parent, json_extract(data, '$.created_at'), id);
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT NOT NULL,
    topic           TEXT NOT NULL,
    subscriber      TEXT NOT NULL,
    body            BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    last_error      TEXT,
    lease_token     TEXT,
    created_at      REAL NOT NULL,
    UNIQUE (message_id, subscriber)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS tasks (
    name            TEXT PRIMARY KEY,
    target          TEXT NOT NULL,
    body            BLOB NOT NULL,
    headers         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    last_error      TEXT,
    lease_token     TEXT,
    created_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (status, next_attempt_at);
"""


class LocalDatabase:
    def __init__(self, path: Path, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        # how long a statement waits for another connection's lock before StoreUnavailable (503)
        self.busy_timeout = busy_timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.connection().executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Columns added after a data directory was created (``CREATE TABLE IF NOT EXISTS``
        leaves an existing table as it was)."""
        conn = self.connection()
        for table, column, kind in (("outbox", "lease_token", "TEXT"), ("tasks", "lease_token", "TEXT")):
            if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"local database unavailable: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"local database unavailable: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StoreUnavailable(f"commit failed: {exc}") from exc

    def read(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"local database unavailable: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


_databases: dict[Path, LocalDatabase] = {}
_databases_lock = threading.Lock()


def database(data_dir: Path, busy_timeout: float = 5.0) -> LocalDatabase:
    """The shared database of one data directory (one per process; the first caller's timeout)."""
    path = (Path(data_dir) / "z3.db").resolve()
    with _databases_lock:
        db = _databases.get(path)
        if db is None:
            db = _databases[path] = LocalDatabase(path, busy_timeout)
        return db


def forget(data_dir: Path) -> None:
    path = (Path(data_dir) / "z3.db").resolve()
    with _databases_lock:
        db = _databases.pop(path, None)
    if db is not None:
        db.close()
