"""The calls list: newest first, filtered and searched, at a cost that does not grow with the
number of calls.

Rules this module keeps:

* One store query per batch, ``created_at`` descending, with the date range on ``created_at``
  and at most ONE indexed filter: a term of ``shared.voice.listing`` (``terms
  array-contains``, the most selective the caller gave: a search word, then the caller, the
  outcome, has-recording) or, with no term, ``route ==``. Two composite indexes serve every
  combination (terraform/firestore.indexes.json): ``(terms CONTAINS, created_at DESC)`` and
  ``(route, created_at DESC)``.
* The other filters are checked on the documents read. A page reads at most
  :data:`MAX_BATCHES` batches of ``limit + 1`` documents: when the filters are that sparse the
  page comes back short with a cursor to go on from (``exhausted`` False), never a scan of the
  whole collection.
* Search words are ANDed. The indexed term is the caller's when given (a number is nearly
  unique), else the longest search word (the rarest, as a rule of thumb).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from shared.models.base import Model
from shared.phone import try_normalize_us
from shared.ports import Document, Query
from shared.tenants import TenantScope
from shared.voice.listing import OUTCOMES, number_terms, words

Route = Literal["ai", "ivr", "forward", "voicemail", "rejected"]
Outcome = Literal["booked", "message", "missed", "answered", "rejected"]
MAX_BATCHES = 4
assert set(OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]


class ListFilters(Model):
    """The filters that may travel in a URL: no phone number, no name, no search words (a search
    is often a name): those are :class:`CallFilters`."""

    since: dt.datetime | None = Field(default=None, description="calls created at or after this time")
    until: dt.datetime | None = Field(default=None, description="calls created before this time")
    route: Route | None = None
    outcome: Outcome | None = None
    has_recording: bool | None = None

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone offset (for example 2026-03-02T00:00:00-07:00)")
        return value

    def caller_terms(self) -> list[str]:
        return []

    def search_terms(self) -> list[str]:
        return []

    def required_terms(self) -> list[str]:
        """Every term a matching call's ``terms`` holds, the one to query by first."""
        terms = [*self.caller_terms(), *self.search_terms()]
        if self.outcome:
            terms.append(f"o:{self.outcome}")
        if self.has_recording:
            terms.append("rec:1")
        return list(dict.fromkeys(terms))


class CallFilters(ListFilters):
    """Plus the caller (a number, its last 4 digits, or a name) and search words: personal data,
    so they come in a form body or a JSON body, never a query string. Searching needs the
    ``calls.recordings.play`` permission (the words are looked up in transcripts): the caller
    of :func:`search_calls` checks it when ``q`` is given."""

    caller: str | None = Field(default=None, max_length=80, description="caller number (or its last 4 digits) or name")
    q: str | None = Field(default=None, max_length=200, description="words of the transcript, summary or caller name")

    @field_validator("caller", "q")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def search_terms(self) -> list[str]:
        """Longest word first: the rarest, as a rule of thumb, is the one to query by."""
        return sorted((f"w:{w}" for w in words(self.q or "")), key=len, reverse=True)

    def caller_terms(self) -> list[str]:
        if not self.caller:
            return []
        number = try_normalize_us(self.caller)
        digits = "".join(c for c in self.caller if c.isdigit())
        if number:
            return number_terms(number)[:1]
        if len(digits) == 4 and len(digits) == len(self.caller.replace(" ", "")):
            return [f"n:{digits}"]
        return [f"w:{w}" for w in words(self.caller)]


@dataclass(frozen=True)
class CallPage:
    calls: list[Document]
    last: Document | None  # where the next page starts (None: no more)
    documents_read: int


def _matches(doc: dict[str, Any], filters: ListFilters, terms: list[str]) -> bool:
    held = set(doc.get("terms") or ())
    if not all(t in held for t in terms):
        return False
    if filters.route and doc.get("route") != filters.route:
        return False
    if filters.has_recording is False and doc.get("recordings"):
        return False
    name_terms = [t[2:] for t in filters.caller_terms() if t.startswith("w:")]
    if name_terms and not set(name_terms) <= set(words(doc.get("caller_name") or "")):
        return False
    return True


def search_calls(scope: TenantScope, filters: ListFilters, limit: int, after: Document | None = None) -> CallPage:
    terms = filters.required_terms()
    query: Query = scope.collection("calls")
    if terms:
        query = query.where("terms", "array-contains", terms[0])
    elif filters.route:
        query = query.where("route", "==", filters.route)
    if filters.since:
        query = query.where("created_at", ">=", filters.since)
    if filters.until:
        query = query.where("created_at", "<", filters.until)
    query = query.order_by("created_at", "desc")
    found: list[Document] = []
    read = 0
    for _ in range(MAX_BATCHES):
        batch = scope.query(query.page(limit + 1, after))
        read += len(batch)
        for doc in batch:
            after = doc
            if _matches(doc.data, filters, terms):
                found.append(doc)
                if len(found) > limit:
                    return CallPage(found[:limit], found[limit - 1], read)
        if len(batch) <= limit:
            return CallPage(found, None, read)  # the end of the list
    return CallPage(found, after, read)  # sparse filters: go on from here next page


def mark_played(scope: TenantScope, call_sid: str, now: dt.datetime) -> None:
    """The first time a member plays a call's recording (the voicemail inbox's played/new)."""
    path = f"calls/{call_sid}"

    def mark(tx) -> None:
        doc = tx.get(path)
        if doc is not None and not doc.get("played_at"):
            tx.update(path, {"played_at": now})

    scope.transaction(mark)
