"""The published legal texts (``docs/privacy-policy.md``; ``docs/terms-of-service.md`` once
there is one) as HTML for the privacy and terms pages.

The documents are plain prose in a small subset of Markdown: ``# `` a title, ``- `` list items,
a short line without closing punctuation a section heading, anything else a paragraph; HTML
comments are notes for editors and are dropped. Every text is escaped (Markup is built, never
trusted from the file). The app function's bundle carries the files (``tools/package.py``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

DOCS = Path(__file__).resolve().parents[2] / "docs"
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True)
class Document:
    title: str
    body: Markup


def _is_heading(line: str) -> bool:
    return len(line) <= 80 and ": " not in line and not line.endswith((".", ":", ",", ";", ")"))


@functools.cache
def document(name: str) -> Document | None:
    """``privacy-policy`` or ``terms-of-service``; None when the repository has no such text."""
    path = DOCS / f"{name}.md"
    if not path.is_file():
        return None
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    title, parts, items = name.replace("-", " ").title(), [], []

    def flush() -> None:
        if items:
            parts.append(Markup("<ul>") + Markup("").join(Markup("<li>%s</li>") % i for i in items) + Markup("</ul>"))
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("- "):
            items.append(line[2:])
            continue
        flush()
        if not line:
            continue
        if line.startswith("# "):
            title = line[2:].strip()
        elif _is_heading(line):
            parts.append(Markup("<h2>%s</h2>") % line.lstrip("#").strip())
        else:
            parts.append(Markup("<p>%s</p>") % line)
    flush()
    return Document(title, Markup("\n").join(parts))



