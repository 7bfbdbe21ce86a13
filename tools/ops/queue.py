"""``scripts/ops queue list|retry``: the embedded backend's event outbox and task queue.

Rows are read by the columns the queue has always had (``status``, ``attempts``,
``last_error``, ``next_attempt_at``, ``created_at``; ``seq``/``topic``/``subscriber`` for events,
``name``/``target`` for tasks), named explicitly, so columns the queue adds later change nothing
here. An item is named ``event/<seq>`` (one subscriber's delivery of one event) or
``task/<name>``.

``retry`` makes a dead or pending item due now (``status='pending'``, ``next_attempt_at`` =
now); its attempt count stays (like Cloud Tasks' "run now"): one more failure after the last
allowed attempt parks it as dead again. Any other state (delivered, or being delivered) is
refused."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from shared.adapters.local.db import LocalDatabase, database
from shared.runtime import Ports
from tools.ops.context import NOT_FOUND, REFUSED, OpsError, out, out_json

_SOURCES = (  # (table, id prefix, id column, what it goes to)
    ("outbox", "event", "seq", "topic || ' -> ' || subscriber"),
    ("tasks", "task", "name", "target"),
)

# 'leased': a dispatcher is delivering it now (redelivered if its lease runs out)
_STATE_LABELS = {"leased": "in flight"}


def _db(ports: Ports) -> LocalDatabase:
    if not ports.settings.is_local:
        raise OpsError("the queue commands read the local backend's queue; on gcp see Cloud Tasks and Pub/Sub "
                       "(gcloud tasks list --queue ..., gcloud pubsub subscriptions ...)")
    return database(ports.settings.z3_data_dir)


def _iso(ts: float | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds") if ts is not None else None


def list_(args: argparse.Namespace, ports: Ports) -> int:
    db = _db(ports)
    items: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}
    for table, prefix, key, what in _SOURCES:
        counts[table] = dict(db.read(f"SELECT status, COUNT(*) FROM {table} GROUP BY status"))
        where, params = ("status = ?", [args.state]) if args.state else ("status != 'done'", [])
        for ident, target, status, attempts, error, due, created in db.read(
                f"SELECT {key}, {what}, status, attempts, last_error, next_attempt_at, created_at FROM {table}"
                f" WHERE {where} ORDER BY created_at DESC LIMIT ?", [*params, args.limit]):
            items.append({"id": f"{prefix}/{ident}", "target": target, "state": status, "attempts": attempts,
                          "last_error": error, "next_attempt_at": _iso(due), "created_at": _iso(created)})
    items = sorted(items, key=lambda i: i["created_at"] or "", reverse=True)[: args.limit]
    if args.json:
        out_json({"counts": counts, "items": items})
        return 0
    for table, by_status in counts.items():
        out(f"{table}: " + (", ".join(f"{_STATE_LABELS.get(s, s)} {n}" for s, n in sorted(by_status.items()))
                            or "empty"))
    if not items:
        out(f"no {args.state or 'pending or dead'} items")
        return 0
    out(f"{'ID':<48} {'TARGET':<36} {'STATE':<8} {'TRIES':>5}  {'NEXT ATTEMPT (UTC)':<25} LAST ERROR")
    for i in items:
        out(f"{i['id']:<48} {i['target']:<36} {_STATE_LABELS.get(i['state'], i['state']):<8} {i['attempts']:>5}  "
            f"{i['next_attempt_at'] or '-':<25} {i['last_error'] or '-'}")
    return 0


def retry(args: argparse.Namespace, ports: Ports) -> int:
    db = _db(ports)
    prefix, _, ident = args.id.partition("/")
    source = next((s for s in _SOURCES if s[1] == prefix), None)
    if source is None or not ident:
        raise OpsError(f"{args.id!r} is not a queue item id (event/<seq> or task/<name>, as queue list shows)")
    table, _, key, _ = source
    if key == "seq" and not ident.isdigit():
        raise OpsError(f"{args.id!r} is not a queue item id (event/<seq> takes a number)")
    with db.write() as conn:
        row = conn.execute(f"SELECT status FROM {table} WHERE {key} = ?", (ident,)).fetchone()
        if row is None:
            raise OpsError(f"no queue item {args.id}", NOT_FOUND)
        if row[0] not in ("pending", "dead"):
            raise OpsError(f"{args.id} is {row[0]}: only a pending or dead item is retried", REFUSED)
        conn.execute(f"UPDATE {table} SET status = 'pending', next_attempt_at = ? WHERE {key} = ?"
                     " AND status IN ('pending', 'dead')", (time.time(), ident))
    out(f"{args.id} was {row[0]}: pending, due now")
    return 0
