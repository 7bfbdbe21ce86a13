"""Cursor pagination: ``?limit=&cursor=`` -> ``{"items": [...], "next_cursor": ...}``.

One page is one store query with a limit (``limit + 1`` documents, to know whether another page
follows) starting after the cursor: a page costs the same with a thousand records or a million.
The cursor is opaque to clients: the ordered field's value and the document id of the page's
last item (URL-safe base64 JSON), from which the store resumes (``Query.start_after``). It names
a position inside the caller's own collection only: the query is always built from the
principal's tenant, so a cursor made elsewhere can only skip, never reach, anything.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Any, Callable, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts.errors import InvalidInput
from shared.ports import Document, Query
from shared.tenants import TenantScope

T = TypeVar("T")
MAX_LIMIT = 100
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="items per page (1 to 100)")
    cursor: str | None = Field(default=None, max_length=400, pattern=r"^[A-Za-z0-9_\-]+$",
                               description="next_cursor of the previous page")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


def encode(value: Any, doc_id: str) -> str:
    if isinstance(value, dt.datetime):
        packed = {"t": "dt", "v": value.isoformat(), "id": doc_id}
    else:
        packed = {"t": "v", "v": value, "id": doc_id}
    return base64.urlsafe_b64encode(json.dumps(packed, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, collection: str, field: str) -> Document:
    """The cursor as the store's ``start_after`` document, or :class:`InvalidInput` (422)."""
    try:
        packed = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        doc_id, kind, value = packed["id"], packed["t"], packed["v"]
        if not isinstance(doc_id, str) or not _ID.match(doc_id):
            raise ValueError("id")
        if kind == "dt":
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("naive time")
        elif kind != "v" or not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError("value")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor this list gave out", field="cursor") from None
    return Document(f"{collection}/{doc_id}", {field: value})


def page(scope: TenantScope, collection: str, order: str, direction: str, params: PageQuery,
         convert: Callable[[dict[str, Any]], T], model: type[Page] = Page) -> Page:
    """One page of ``tenants/{t}/{collection}`` ordered by ``order`` (then id), as ``model``
    (``Page[CallOut]`` ...) with each document through ``convert``."""
    query: Query = scope.collection(collection).order_by(order, direction)  # type: ignore[arg-type]
    after = decode(params.cursor, query.collection, order) if params.cursor else None
    docs = scope.query(query.page(params.limit + 1, after))
    more = len(docs) > params.limit
    docs = docs[: params.limit]
    next_cursor = encode(docs[-1].data.get(order), docs[-1].id) if more and docs else None
    return model(items=[convert(doc.data) for doc in docs], next_cursor=next_cursor)
