"""The embedded backend's EventBus and TaskQueue, and the dispatcher that delivers them.

Both persist what they accept in SQLite before returning (nothing is lost when the process
dies) and are delivered by :class:`Dispatcher` over HTTP to the local function URLs, in the
format production uses:

* events: a binary-mode CloudEvent ``google.cloud.pubsub.topic.v1.messagePublished`` whose body
  is Pub/Sub's push body (what Eventarc sends a gen2 function);
* tasks: an HTTP POST of the task body with Cloud Tasks' ``X-CloudTasks-*`` headers;

each signed with the data directory's delivery key (``shared.webhooks.invoker``), which the
workers require, as Cloud Tasks and Eventarc attach an OIDC token.

A 2xx answer acknowledges; anything else (or no answer) is retried with exponential backoff,
like Pub/Sub push and Cloud Tasks do. After ``max_attempts`` the row is parked as ``dead``
(visible to ``scripts/ops queue``), never silently dropped.

Any number of dispatchers (threads, processes) may run on one database: a row is delivered only
by the one that **claimed** it, in a single ``UPDATE`` (status ``leased``, a fresh lease token,
``next_attempt_at`` moved to the lease's expiry, ``attempts`` counted). Settling the row (done,
retry, dead) only takes effect while the token still matches. A lease that expires (its
dispatcher died mid-delivery) makes the row due again, so it is redelivered: at least once,
never twice at the same time. The lease (``LEASE_SECONDS``) is longer than a delivery can take
(``DELIVERY_TIMEOUT`` for the connection plus as much again for the answer, with margin), so a
slow but live delivery is not handed to a second dispatcher.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from shared.adapters.local.db import LocalDatabase
from shared.config import Settings
from shared.events import PUBSUB_EVENT_TYPE, push_body, subscribers
from shared.ports import TaskRef
from shared.webhooks.invoker import DELIVERY_HEADER, delivery_key, sign_delivery

log = logging.getLogger("z3.local.dispatcher")

# (url, body, headers) -> HTTP status; raises on transport failure
Poster = Callable[[str, bytes, dict[str, str]], int]


def _now() -> float:
    return time.time()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LocalEventBus:
    def __init__(self, db: LocalDatabase, settings: Settings,
                 routes: Callable[[str], tuple[str, ...]] = subscribers) -> None:
        self._db = db
        self._settings = settings
        self._routes = routes

    def publish(self, topic: str, data: bytes, attributes: dict[str, str] | None = None) -> str:
        message_id = uuid.uuid4().hex
        attrs = {**(attributes or {}), "z3_topic": topic}
        now = _now()
        with self._db.write() as conn:
            for subscriber in self._routes(topic):
                body = push_body(
                    project=self._settings.project, topic=topic,
                    subscription=f"{self._settings.topic_id(topic)}--{subscriber}",
                    data=data, attributes=attrs, message_id=message_id, publish_time=_iso(now),
                )
                conn.execute(
                    "INSERT INTO outbox (message_id, topic, subscriber, body, next_attempt_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (message_id, topic, subscriber, json.dumps(body).encode(), now, now),
                )
        return message_id


class LocalTaskQueue:
    def __init__(self, db: LocalDatabase, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def enqueue(self, target: str, body: bytes, *, name: str | None = None,
                schedule_time: dt.datetime | None = None, headers: dict[str, str] | None = None) -> TaskRef:
        task_name = name or uuid.uuid4().hex
        now = _now()
        due = schedule_time.timestamp() if schedule_time is not None else now
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        with self._db.write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO tasks (name, target, body, headers, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (task_name, target, bytes(body), json.dumps(all_headers), due, now),
            )
            return TaskRef(name=task_name, created=cur.rowcount == 1)


# requests applies a timeout to connecting and to each wait for the answer's bytes.
DELIVERY_TIMEOUT = 30.0
# Longer than connecting plus answering (2 x DELIVERY_TIMEOUT) with a margin: a live delivery
# keeps its row; only a dead dispatcher's row is taken over.
LEASE_SECONDS = 4 * DELIVERY_TIMEOUT


def requests_poster(timeout: float = DELIVERY_TIMEOUT) -> Poster:
    import requests

    session = requests.Session()

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        return session.post(url, data=body, headers=headers, timeout=timeout).status_code

    return post


@dataclass
class Backoff:
    """Cloud Tasks' default shape: doubling from min to max."""

    min_seconds: float = 0.1
    max_seconds: float = 60.0
    max_attempts: int = 50

    def delay(self, attempts: int) -> float:
        return min(self.max_seconds, self.min_seconds * (2 ** max(0, attempts - 1)))


class Dispatcher:
    """Delivers due outbox rows and tasks. ``run_once`` for tests, ``start`` for the dev stack."""

    def __init__(self, db: LocalDatabase, settings: Settings, poster: Poster | None = None,
                 backoff: Backoff | None = None, batch_size: int = 50,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self._db = db
        self._lease = lease_seconds
        self._key = delivery_key(settings.z3_data_dir)
        self._settings = settings
        self._post = poster or requests_poster()
        self._backoff = backoff or Backoff()
        self._batch = batch_size
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ------------------------------------------------------------------------------
    def run_once(self, now: float | None = None) -> int:
        """Deliver what is due (up to ``batch_size`` rows of each table, each claimed before it
        is delivered); returns how many deliveries were acknowledged."""
        acked = 0
        for _ in range(self._batch):
            claimed = self._claim("outbox", "seq", "seq, topic, subscriber, body, attempts", now)
            if claimed is None:
                break
            token, (seq, topic, subscriber, body, attempts) = claimed
            message = json.loads(body)["message"]
            headers = {
                "Content-Type": "application/json",
                "ce-id": message["messageId"],
                "ce-specversion": "1.0",
                "ce-type": PUBSUB_EVENT_TYPE,
                "ce-source": f"//pubsub.googleapis.com/projects/{self._settings.project}/topics/"
                             f"{self._settings.topic_id(topic)}",
                "ce-time": message["publishTime"],
            }
            ok, error = self._deliver(subscriber, bytes(body), headers)
            acked += self._settle("outbox", "seq", seq, token, attempts, ok, error)
        for _ in range(self._batch):
            claimed = self._claim("tasks", "name", "name, target, body, headers, attempts", now)
            if claimed is None:
                break
            token, (name, target, body, headers_json, attempts) = claimed
            headers = {
                **json.loads(headers_json),
                "X-CloudTasks-QueueName": self._settings.z3_tasks_queue,
                "X-CloudTasks-TaskName": name,
                "X-CloudTasks-TaskRetryCount": str(attempts - 1),
                "X-CloudTasks-TaskExecutionCount": str(attempts - 1),
            }
            ok, error = self._deliver(target, bytes(body), headers)
            acked += self._settle("tasks", "name", name, token, attempts, ok, error)
        return acked

    def _claim(self, table: str, key: str, columns: str, now: float | None) -> tuple[str, tuple] | None:
        """Lease the next due row (pending and due, or leased with an expired lease) in one
        UPDATE; its ``attempts`` count this delivery. None when nothing is due."""
        token = uuid.uuid4().hex
        at = _now() if now is None else now
        with self._db.write() as conn:
            # A row whose every attempt died with its dispatcher is parked, not leased for ever.
            conn.execute(f"UPDATE {table} SET status = 'dead', last_error = 'lease expired', lease_token = NULL"
                         f" WHERE status = 'leased' AND next_attempt_at <= ? AND attempts >= ?",
                         (at, self._backoff.max_attempts))
            row = conn.execute(
                f"UPDATE {table} SET status = 'leased', lease_token = ?, next_attempt_at = ?,"
                f" attempts = attempts + 1"
                f" WHERE {key} = (SELECT {key} FROM {table} WHERE status IN ('pending', 'leased')"
                f" AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 1)"
                f" RETURNING {columns}",
                (token, _now() + self._lease, at),
            ).fetchone()
        return None if row is None else (token, row)

    def _deliver(self, function: str, body: bytes, headers: dict[str, str]) -> tuple[bool, str | None]:
        headers = {**headers, DELIVERY_HEADER: sign_delivery(self._key, function, body)}
        try:
            status = self._post(self._settings.function_url(function), body, headers)
        except Exception as exc:  # noqa: BLE001 - any transport failure means "retry later"
            return False, f"{type(exc).__name__}"
        return (200 <= status < 300), (None if 200 <= status < 300 else f"HTTP {status}")

    def _settle(self, table: str, key: str, value: object, token: str, attempts: int, ok: bool,
                error: str | None) -> int:
        """Record the outcome, if the lease is still ours (after it expired, the row belongs to
        whichever dispatcher claimed it next; this outcome is then only logged)."""
        held = f"{key} = ? AND status = 'leased' AND lease_token = ?"
        with self._db.write() as conn:
            if ok:
                cur = conn.execute(f"UPDATE {table} SET status = 'done', last_error = NULL, lease_token = NULL"
                                   f" WHERE {held}", (value, token))
                if cur.rowcount == 0:
                    log.warning("delivered after the lease expired", extra={"table": table})
                return 1
            status = "dead" if attempts >= self._backoff.max_attempts else "pending"
            cur = conn.execute(
                f"UPDATE {table} SET status = ?, last_error = ?, next_attempt_at = ?, lease_token = NULL"
                f" WHERE {held}",
                (status, error, _now() + self._backoff.delay(attempts), value, token),
            )
        if not cur.rowcount:
            return 0
        extra = {"table": table, "attempt": attempts, "error": error}
        if status == "pending" and error == "HTTP 503":
            # 503 is the target asking to be delivered again (shared.worker.RetryLater logs its
            # reason at INFO, e.g. a voicemail's recording not stored yet; an outage is logged by
            # the function itself): an expected wait, not a failure.
            log.info("delivery deferred, will retry", extra={**extra, "retry_in_s": round(self._backoff.delay(attempts), 1)})
        else:
            log.warning("delivery failed, will retry" if status == "pending" else "delivery failed, parked as dead",
                        extra=extra)
        return 0

    def pending(self) -> int:
        """Rows not delivered yet: waiting or in flight."""
        (a,), = self._db.read("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'leased')")
        (b,), = self._db.read("SELECT COUNT(*) FROM tasks WHERE status IN ('pending', 'leased')")
        return a + b

    def drain(self, timeout: float = 10.0) -> int:
        """Deliver until nothing is due (retries included) or in flight at another dispatcher,
        or the timeout passes."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            total += self.run_once()
            soon = _now() + 1.0
            (due,), = self._db.read(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'leased'"
                "        OR (status = 'pending' AND next_attempt_at <= ?))"
                " + (SELECT COUNT(*) FROM tasks WHERE status = 'leased'"
                "        OR (status = 'pending' AND next_attempt_at <= ?))",
                (soon, soon))
            if not due:
                return total
            time.sleep(0.02)
        return total

    # -- background ----------------------------------------------------------------------------
    def start(self, interval: float = 0.05) -> "Dispatcher":
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    delivered = self.run_once()
                except Exception:  # noqa: BLE001 - the loop must survive a bad row; it is logged
                    log.exception("dispatcher pass failed")
                    delivered = 0
                if not delivered:
                    self._wake.wait(interval)
                    self._wake.clear()

        self._thread = threading.Thread(target=loop, name="z3-dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
