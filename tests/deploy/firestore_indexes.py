"""Every Firestore query the code runs has the composite index it needs, in
terraform/firestore.indexes.json (the Firebase CLI's format; terraform/data.tf creates each
entry as a google_firestore_index).

A static reading of the code cannot know every query's collection and fields (they are built
across functions), so the test session records the shape of every query the local store runs
(tests/conftest.py installs :func:`install_recorder`) and fails at its end when a shape needs an
index the file lacks (:func:`unindexed`). Only queries made by the product's code (shared/,
functions/, tools/) count: the contract suite's own queries on made-up collections are not
deployed. A new query the tests exercise is caught; one no test runs is not, which is one more
reason to test it.

Firestore's rule, as applied here: a query on one field (its filters and its order) is served
by the automatic single-field indexes, and so are equality-only filters on several fields
(index merging); anything else (an order or inequality beside another field) needs a composite
index whose fields are the equality fields, then the ordered/inequality fields in query order
and direction (array-contains as arrayConfig CONTAINS).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterable, NamedTuple

from shared.ports import Query

INDEX_FILE = Path(__file__).resolve().parents[2] / "terraform" / "firestore.indexes.json"
EQUALITY = ("==", "in")
INEQUALITY = ("<", "<=", ">", ">=", "!=", "not-in")


class Shape(NamedTuple):
    collection_group: str
    equality: frozenset[str]
    contains: frozenset[str]
    ordered: tuple[tuple[str, str], ...]  # (field, ASCENDING|DESCENDING), in query order


def shape(query: Query) -> Shape:
    ordered: list[tuple[str, str]] = [(o.field, "DESCENDING" if o.direction == "desc" else "ASCENDING")
                                      for o in query.order if o.field != "__name__"]
    last = ordered[-1][1] if ordered else "ASCENDING"
    for flt in query.filters:  # Firestore orders by an inequality field it was not told to order by
        if flt.op in INEQUALITY and flt.field not in {f for f, _ in ordered}:
            ordered.append((flt.field, last))
    ordered_fields = {f for f, _ in ordered}
    equality = frozenset(f.field for f in query.filters if f.op in EQUALITY and f.field not in ordered_fields)
    contains = frozenset(f.field for f in query.filters if f.op == "array-contains")
    return Shape(query.collection.rsplit("/", 1)[-1], equality, contains, tuple(ordered))


def needs_index(s: Shape) -> bool:
    fields = set(s.equality) | set(s.contains) | {f for f, _ in s.ordered}
    if len(fields) <= 1:
        return False
    return bool(s.ordered)  # equality-only filters merge single-field indexes


def _serves(index: dict, s: Shape) -> bool:
    if index.get("collectionGroup") != s.collection_group or index.get("queryScope", "COLLECTION") != "COLLECTION":
        return False
    fields = [(f["fieldPath"], f.get("order") or f.get("arrayConfig")) for f in index.get("fields", [])]
    head = len(s.equality) + len(s.contains)
    if {f for f, _ in fields[:head]} != set(s.equality) | set(s.contains):
        return False
    if any(mode == "CONTAINS" and f not in s.contains for f, mode in fields[:head]):
        return False
    return tuple(fields[head:]) == s.ordered


def load_indexes(path: Path = INDEX_FILE) -> list[dict]:
    return json.loads(path.read_text())["indexes"]


def unindexed(shapes: Iterable[Shape], indexes: list[dict]) -> list[Shape]:
    return sorted({s for s in shapes if needs_index(s) and not any(_serves(i, s) for i in indexes)})


def describe(s: Shape) -> str:
    parts = [f"{f} ==" for f in sorted(s.equality)] + [f"{f} array-contains" for f in sorted(s.contains)]
    parts += [f"{f} {mode}" for f, mode in s.ordered]
    return f"{s.collection_group}: " + ", ".join(parts)


# shape -> where the query was made (the innermost caller outside the store's own layers)
RECORDED: dict[Shape, str] = {}
_REPO = INDEX_FILE.parents[1]
_STORE_LAYERS = ("shared/adapters/", "shared/ports.py", "tests/deploy/firestore_indexes.py")
_SCOPE = ("shared/tenants/__init__.py", ("query", "stream", "own"))  # TenantScope passes queries on
_PRODUCT = ("shared/", "functions/", "tools/")


def _origin() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        try:
            where = Path(frame.f_code.co_filename).resolve().relative_to(_REPO).as_posix()
        except ValueError:
            where = ""
        passing_on = where == _SCOPE[0] and frame.f_code.co_name in _SCOPE[1]
        if where and not where.startswith(_STORE_LAYERS) and not passing_on:
            return where
        frame = frame.f_back
    return ""


def product_shapes() -> set[Shape]:
    """The shapes of queries the product's code made (the contract suite's own test queries,
    which exercise the store on made-up collections, are not deployed)."""
    return {s for s, where in RECORDED.items() if where.startswith(_PRODUCT)}


def install_recorder() -> None:
    """Record the shape of every query the embedded store runs (the same queries the code sends
    to Firestore), with where it was made."""
    from shared.adapters.local import documents

    if getattr(documents._run_query, "z3_recorder", False):
        return
    original = documents._run_query

    def recording(conn, query):  # type: ignore[no-untyped-def]
        RECORDED.setdefault(shape(query), _origin())
        return original(conn, query)

    recording.z3_recorder = True  # type: ignore[attr-defined]
    documents._run_query = recording
