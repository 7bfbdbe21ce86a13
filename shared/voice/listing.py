"""What the calls list filters and searches on, written on the call document itself.

Rules this module keeps:

* ``outcome`` (``booked | message | missed | answered | rejected``) and ``terms`` (a list of
  strings) are derived from the whole call document by :func:`listing_fields`, and every
  writer that holds the document in a transaction merges them into the same write
  (``patch.update(listing_fields({**doc, **patch}))``): the index never lags the record by a
  second write, and the last writer's fields are those of the full document.
* ``terms`` is a token index: ``w:<word>`` for each distinct word of the transcript, summary
  and caller name (lower-case, accents kept, 2 to 32 characters, at most
  :data:`MAX_WORDS`), ``n:<digits>`` for the caller's number (its E.164 digits and the last
  four), ``o:<outcome>``, ``rec:1`` when a recording is stored. Firestore serves
  ``terms array-contains X`` ordered by ``created_at`` from ONE composite index, so a search
  reads the page it returns, never every call.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MAX_WORDS = 400  # distinct words indexed per call (Firestore: 20,000 index entries per document)
MISSED_STATUSES = frozenset({"no-answer", "busy", "failed", "canceled"})
OUTCOMES = ("booked", "message", "missed", "answered", "rejected")
_WORD = re.compile(r"[^\W_]{2,32}", re.UNICODE)


def words(text: str) -> list[str]:
    """The distinct search words of ``text``, in order of appearance."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    return list(dict.fromkeys(_WORD.findall(normal)))


def transcript_text(transcript: Any) -> str:
    if isinstance(transcript, str):
        return transcript
    if isinstance(transcript, list):  # Retell's transcript_object: [{role, content}, ...]
        return " ".join(str(t.get("content") or "") for t in transcript if isinstance(t, dict))
    return ""


SPEAKERS = {"agent": "AI receptionist", "user": "Caller"}


def transcript_turns(transcript: Any) -> list[tuple[str, str]]:
    """(speaker, words) per turn, from Retell's ``transcript_object`` list or its plain text
    (``Agent: ...`` / ``User: ...`` lines)."""
    turns: list[tuple[str, str]] = []
    if isinstance(transcript, list):
        for turn in transcript:
            if isinstance(turn, dict) and str(turn.get("content") or "").strip():
                role = str(turn.get("role") or "")
                turns.append((SPEAKERS.get(role, role.capitalize() or "Speaker"), str(turn["content"]).strip()))
    elif isinstance(transcript, str):
        for line in transcript.splitlines():
            speaker, colon, words_ = line.partition(":")
            if colon and speaker.strip().lower() in SPEAKERS:
                turns.append((SPEAKERS[speaker.strip().lower()], words_.strip()))
            elif line.strip():
                turns.append(("", line.strip()))
    return turns


def transcript_lines(transcript: Any) -> str:
    """The transcript as Retell's own text form (``Agent: ...`` / ``User: ...`` lines), from either
    shape."""
    if isinstance(transcript, str):
        return transcript
    if isinstance(transcript, list):
        return "\n".join(f"{str(t.get('role') or 'speaker').capitalize()}: {t.get('content') or ''}"
                         for t in transcript if isinstance(t, dict) and t.get("content"))
    return ""


def outcome_of(doc: dict[str, Any]) -> str:
    keys = [str(entry.get("key") or "") for entry in doc.get("action_log") or [] if isinstance(entry, dict)]
    if any(key.startswith("book:") for key in keys):
        return "booked"
    if doc.get("messages_taken") or (doc.get("route") == "voicemail" and doc.get("recordings")):
        return "message"
    if doc.get("route") == "rejected":
        return "rejected"
    if doc.get("status") in MISSED_STATUSES or (doc.get("route") == "voicemail" and doc.get("status") == "completed"):
        return "missed"  # nobody answered, or the caller hung up at the voicemail beep without a message
    return "answered"


def number_terms(number: str | None) -> list[str]:
    digits = "".join(c for c in number or "" if c.isdigit())
    return [f"n:{digits}", f"n:{digits[-4:]}"] if len(digits) >= 4 else []


def listing_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """``outcome``, ``has_recording`` and ``terms`` for the call document ``doc`` (the merged
    state the writer is about to store)."""
    outcome = outcome_of(doc)
    text = " ".join(filter(None, (transcript_text(doc.get("transcript")), doc.get("summary") or "",
                                  doc.get("caller_name") or "",
                                  " ".join(str(m.get("message") or "") for m in doc.get("messages_taken") or []
                                           if isinstance(m, dict)),
                                  (doc.get("voicemail_transcript") or {}).get("text") or "")))
    has_recording = bool(doc.get("recordings"))
    terms = [f"o:{outcome}", *(["rec:1"] if has_recording else []), *number_terms(doc.get("from")),
             *(f"w:{w}" for w in words(text)[:MAX_WORDS])]
    return {"outcome": outcome, "has_recording": has_recording, "terms": list(dict.fromkeys(terms))}


def with_listing(doc: dict[str, Any] | None, patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` plus the listing fields of the document it produces."""
    if not patch:
        return patch
    return {**patch, **listing_fields({**(doc or {}), **patch})}
