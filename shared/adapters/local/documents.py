"""DocumentStore on SQLite: JSON documents, the query subset the code needs, transactions.

Values are stored as JSON. Datetimes become fixed-width UTC strings tagged ``@@dt:`` so that
SQLite compares them in time order; a user string that itself starts with ``@@`` is stored as
``@@s:<string>`` so nothing is ever mistaken for a tag.

Query semantics follow Firestore (see ``shared.ports.Query``): a document that lacks a filtered
or ordered field is excluded, comparisons only match values of the same type, results are
ordered by the given fields then by id (in the direction of the last order), and an inequality
without an explicit order orders by the inequality fields first, as Firestore does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from typing import Any, Callable, Iterator, Sequence, TypeVar

from shared.adapters.local.db import LocalDatabase
from shared.ports import (
    AlreadyExists,
    Document,
    Filter,
    NotFound,
    Order,
    Query,
    StoreUnavailable,
    check_collection_path,
    check_document_path,
    stream_pages,
)

T = TypeVar("T")

_DT_TAG = "@@dt:"
_STR_TAG = "@@s:"
_DT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_INEQUALITIES = {"<", "<=", ">", ">="}
_SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- value encoding -----------------------------------------------------------------------

_UTC = dt.timezone.utc


def _encode_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime: store timezone-aware datetimes only")
    u = value if value.tzinfo is _UTC else value.astimezone(_UTC)
    # _DT_FORMAT, spelled out: twice as fast as strftime on the write path of every webhook
    return "%s%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (_DT_TAG, u.year, u.month, u.day, u.hour, u.minute, u.second,
                                                     u.microsecond)


_PLAIN = (bool, int, float, type(None))


def encode(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return _STR_TAG + value if value.startswith("@@") else value
    if kind is dict:
        return {str(k): encode(v) for k, v in value.items()}
    if kind in _PLAIN:
        return value
    if kind is dt.datetime:
        return _encode_datetime(value)
    if kind is list or kind is tuple:
        return _encode_list(value)
    # subclasses (str enums, OrderedDict, ...): the slower checks
    if isinstance(value, dt.datetime):
        return _encode_datetime(value)
    if isinstance(value, str):
        return _STR_TAG + value if value.startswith("@@") else value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return _encode_list(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def _encode_list(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    # Firestore refuses an array directly inside an array; so does the embedded backend, so code
    # that would fail in production fails here first.
    if any(isinstance(v, (list, tuple)) for v in values):
        raise TypeError("cannot store a list directly inside a list (Firestore refuses it)")
    return [encode(v) for v in values]


def decode(value: Any) -> Any:
    if isinstance(value, str):
        if value.startswith(_DT_TAG):
            # fromisoformat (C, Python 3.11+) reads our fixed format ten times faster than strptime
            return dt.datetime.fromisoformat(value[len(_DT_TAG):])
        if value.startswith(_STR_TAG):
            return value[len(_STR_TAG):]
        return value
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(encode(data), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# Where the tags of a document's text are, per text: documents read again and again unchanged (a
# business's settings on every call) are then decoded by a plain ``json.loads`` (C) and a few
# assignments, instead of a Python walk over every value. Keyed by the exact text, so a changed
# document is a new entry; only the (immutable) decoded values are shared between reads.
_TAG_MEMO: dict[str, tuple[tuple[tuple[Any, ...], Any], ...]] = {}
_TAG_MEMO_SIZE = 512
_TAG_MEMO_MAX_TEXT = 16_384


def _tags(value: Any, path: tuple[Any, ...], found: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Append (path, decoded value) for every tagged string inside ``value``."""
    if type(value) is dict:
        items: Any = value.items()
    elif type(value) is list:
        items = enumerate(value)
    else:
        return
    for key, item in items:
        if type(item) is str:
            if item.startswith("@@"):
                found.append(((*path, key), decode(item)))
        elif type(item) is dict or type(item) is list:
            _tags(item, (*path, key), found)


def _loads(text: str) -> dict[str, Any]:
    # Hot path (every read): most documents carry no tag at all.
    data = json.loads(text)
    if '"@@' not in text:
        return data
    tags = _TAG_MEMO.get(text)
    if tags is None:
        found: list[tuple[tuple[Any, ...], Any]] = []
        _tags(data, (), found)
        tags = tuple(found)
        if len(text) <= _TAG_MEMO_MAX_TEXT:
            if len(_TAG_MEMO) >= _TAG_MEMO_SIZE:
                _TAG_MEMO.clear()
            _TAG_MEMO[text] = tags
    for path, value in tags:
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    return data


def _split(path: str) -> tuple[str, str]:
    check_document_path(path)
    parent, _, doc_id = path.rpartition("/")
    return parent, doc_id


def _json_path(field: str) -> str:
    parts = field.split(".")
    return "$" + "".join(f".{p}" if _SAFE_KEY.match(p) else '."' + p.replace('"', '\\"') + '"' for p in parts)


# Both helpers build the next stored form of a document that is serialised right away; the
# result may share sub-objects with ``base`` and ``patch`` (they are never kept or mutated later).

def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Firestore's ``set(..., merge=True)``: maps merge recursively, everything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_update(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Firestore's ``update``: top-level keys replace; dotted keys reach into maps (copied on the
    way down, so ``base`` itself is not changed)."""
    out = dict(base)
    for key, value in patch.items():
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            child = target.get(part)
            target[part] = dict(child) if isinstance(child, dict) else {}
            target = target[part]
        target[parts[-1]] = value
    return out


# --- query compilation --------------------------------------------------------------------

def _type_guard(expr_path: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"json_type(data, '{expr_path}') IN ('true','false')"
    if isinstance(value, (int, float)):
        return f"json_type(data, '{expr_path}') IN ('integer','real')"
    if isinstance(value, (str, dt.datetime)):
        return f"json_type(data, '{expr_path}') = 'text'"
    raise TypeError(f"cannot compare with a {type(value).__name__}")


def _sql_value(value: Any) -> Any:
    value = encode(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _equals(path: str, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return f"json_type(data, '{path}') = 'null'", []
    if isinstance(value, bool):
        return f"json_type(data, '{path}') = '{'true' if value else 'false'}'", []
    if isinstance(value, (dict, list)):
        return f"json_extract(data, '{path}') = json(?)", [_sql_value(value)]
    return f"({_type_guard(path, value)} AND json_extract(data, '{path}') = ?)", [_sql_value(value)]


def _compile_filter(flt: Filter) -> tuple[str, list[Any]]:
    path = _json_path(flt.field)
    if flt.op == "==":
        return _equals(path, flt.value)
    if flt.op in _INEQUALITIES:
        return (f"({_type_guard(path, flt.value)} AND json_extract(data, '{path}') {flt.op} ?)",
                [_sql_value(flt.value)])
    if flt.op == "in":
        values = list(flt.value)
        if not values:
            return "0", []
        parts, params = zip(*(_equals(path, v) for v in values))
        return "(" + " OR ".join(parts) + ")", [p for group in params for p in group]
    if flt.op == "array-contains":
        value = flt.value
        if isinstance(value, bool):
            cond = f"type = '{'true' if value else 'false'}'"
            params: list[Any] = []
        elif value is None:
            cond, params = "type = 'null'", []
        else:
            cond, params = "value = ?", [_sql_value(value)]
        return f"EXISTS (SELECT 1 FROM json_each(data, '{path}') WHERE {cond})", params
    raise ValueError(f"unsupported operator {flt.op!r}")


def _effective_order(query: Query) -> list[Order]:
    order = list(query.order)
    if not order:
        inequality_fields = sorted({f.field for f in query.filters if f.op in _INEQUALITIES})
        order = [Order(name) for name in inequality_fields]
    return order


def _field_value(data: dict[str, Any], field: str) -> Any:
    value: Any = data
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"cursor document lacks the ordered field {field!r}")
        value = value[part]
    return value


def compile_query(query: Query) -> tuple[str, list[Any]]:
    check_collection_path(query.collection)
    where = ["parent = ?"]
    params: list[Any] = [query.collection]
    for flt in query.filters:
        sql, p = _compile_filter(flt)
        where.append(sql)
        params.extend(p)
    order = _effective_order(query)
    id_direction = order[-1].direction if order else "asc"
    order_sql: list[str] = []
    for o in order:
        path = _json_path(o.field)
        where.append(f"json_type(data, '{path}') IS NOT NULL")
        order_sql.append(f"json_extract(data, '{path}') {'DESC' if o.direction == 'desc' else 'ASC'}")
    order_sql.append(f"id {'DESC' if id_direction == 'desc' else 'ASC'}")
    if query.start_after is not None:
        cursor = query.start_after
        keys = [(f"json_extract(data, '{_json_path(o.field)}')", o.direction, _sql_value(_field_value(cursor.data, o.field)))
                for o in order]
        keys.append(("id", id_direction, cursor.id))
        alternatives: list[str] = []
        for i, (expr, direction, value) in enumerate(keys):
            terms = [f"{e} IS ?" for e, _, _ in keys[:i]]
            params.extend(v for _, _, v in keys[:i])
            terms.append(f"{expr} {'<' if direction == 'desc' else '>'} ?")
            params.append(value)
            alternatives.append("(" + " AND ".join(terms) + ")")
        where.append("(" + " OR ".join(alternatives) + ")")
    sql = f"SELECT id, data FROM docs WHERE {' AND '.join(where)} ORDER BY {', '.join(order_sql)}"
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(int(query.limit))
    return sql, params


# --- the store ------------------------------------------------------------------------------

def _get(conn: sqlite3.Connection, path: str) -> dict[str, Any] | None:
    parent, doc_id = _split(path)
    row = conn.execute("SELECT data FROM docs WHERE parent = ? AND id = ?", (parent, doc_id)).fetchone()
    return _loads(row[0]) if row else None


def _put(conn: sqlite3.Connection, path: str, data: dict[str, Any] | str) -> None:
    parent, doc_id = _split(path)
    text = data if isinstance(data, str) else _dumps(data)
    conn.execute("INSERT OR REPLACE INTO docs (parent, id, data) VALUES (?, ?, ?)", (parent, doc_id, text))


def _delete(conn: sqlite3.Connection, path: str) -> None:
    parent, doc_id = _split(path)
    conn.execute("DELETE FROM docs WHERE parent = ? AND id = ?", (parent, doc_id))


def _run_query(conn: sqlite3.Connection, query: Query) -> list[Document]:
    sql, params = compile_query(query)
    return [Document(f"{query.collection}/{doc_id}", _loads(data)) for doc_id, data in conn.execute(sql, params)]


class _Writes:
    """Buffered writes of a transaction or batch, applied in order at commit.

    Each write is encoded to JSON when it is buffered: a snapshot (later changes by the caller
    do not leak in, and what the store cannot hold fails at the call site). A plain ``set`` or
    ``create`` needs no read at commit; ``update`` and a merging ``set`` read the current
    document and decode the snapshot only then (a merge onto nothing stores it as is)."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, str, str | None]] = []

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        self.ops.append(("merge" if merge else "set", check_document_path(path), _dumps(data)))

    def create(self, path: str, data: dict[str, Any]) -> None:
        self.ops.append(("create", check_document_path(path), _dumps(data)))

    def update(self, path: str, data: dict[str, Any]) -> None:
        self.ops.append(("update", check_document_path(path), _dumps(data)))

    def delete(self, path: str) -> None:
        self.ops.append(("delete", check_document_path(path), None))

    def apply(self, conn: sqlite3.Connection) -> None:
        for op, path, text in self.ops:
            if op == "delete":
                _delete(conn, path)
                continue
            assert text is not None
            if op == "set":
                _put(conn, path, text)
            elif op == "create":
                parent, doc_id = _split(path)
                cur = conn.execute("INSERT OR IGNORE INTO docs (parent, id, data) VALUES (?, ?, ?)",
                                   (parent, doc_id, text))
                if cur.rowcount != 1:
                    raise AlreadyExists(path)
            else:
                current = _get(conn, path)
                if op == "update":
                    if current is None:
                        raise NotFound(path)
                    _put(conn, path, apply_update(current, _loads(text)))
                else:
                    _put(conn, path, text if current is None else deep_merge(current, _loads(text)))


class _Transaction(_Writes):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn

    def get(self, path: str) -> dict[str, Any] | None:
        return _get(self._conn, path)

    def query(self, query: Query) -> list[Document]:
        return _run_query(self._conn, query)


class _Batch(_Writes):
    def __init__(self, db: LocalDatabase) -> None:
        super().__init__()
        self._db = db

    def commit(self) -> None:
        if len(self.ops) > 500:
            raise ValueError("a batch holds at most 500 writes")
        with self._db.write() as conn:
            self.apply(conn)
        self.ops.clear()


class SqliteDocumentStore:
    def __init__(self, db: LocalDatabase) -> None:
        self._db = db

    def get(self, path: str) -> dict[str, Any] | None:
        try:
            return _get(self._db.connection(), path)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """One statement for all paths (a webhook's reads happen in one round trip)."""
        if not paths:
            return {}
        keys = [_split(path) for path in paths]
        sql = "SELECT parent, id, data FROM docs WHERE " + " OR ".join(["(parent = ? AND id = ?)"] * len(keys))
        found = {f"{parent}/{doc_id}": data for parent, doc_id, data in
                 self._db.read(sql, [part for key in keys for part in key])}
        return {path: (_loads(found[path]) if path in found else None) for path in paths}

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        with self._db.write() as conn:
            if merge:
                current = _get(conn, path)
                if current is not None:
                    data = deep_merge(current, data)
            _put(conn, path, data)

    def create(self, path: str, data: dict[str, Any]) -> bool:
        parent, doc_id = _split(path)
        with self._db.write() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO docs (parent, id, data) VALUES (?, ?, ?)",
                               (parent, doc_id, _dumps(data)))
            return cur.rowcount == 1

    def update(self, path: str, data: dict[str, Any]) -> None:
        with self._db.write() as conn:
            current = _get(conn, path)
            if current is None:
                raise NotFound(path)
            _put(conn, path, apply_update(current, data))

    def delete(self, path: str) -> None:
        with self._db.write() as conn:
            _delete(conn, path)

    def query(self, query: Query) -> list[Document]:
        try:
            return _run_query(self._db.connection(), query)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def stream(self, query: Query, page_size: int = 300) -> Iterator[Document]:
        return stream_pages(self.query, query, page_size)

    def transaction(self, fn: Callable[[Any], T], *, attempts: int = 5) -> T:
        # BEGIN IMMEDIATE serialises writers, so there is no contention to retry here.
        with self._db.write() as conn:
            tx = _Transaction(conn)
            result = fn(tx)
            tx.apply(conn)
            return result

    def batch(self) -> _Batch:
        return _Batch(self._db)

    def list_collections(self, path: str | None = None) -> list[str]:
        if path is None:
            rows = self._db.read("SELECT DISTINCT parent FROM docs")
            return sorted({parent.split("/", 1)[0] for (parent,) in rows})
        check_document_path(path)
        prefix = path + "/"
        rows = self._db.read("SELECT DISTINCT parent FROM docs WHERE parent >= ? AND parent < ?",
                             (prefix, path + "0"))  # '0' sorts right after '/'
        return sorted({parent[len(prefix):].split("/", 1)[0] for (parent,) in rows})
