"""Static files under content-hashed names (``app.3f9c2a1b.css``): cached immutable, and a new
file gets a new name. The hashes are computed once per instance."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"


@functools.lru_cache(maxsize=1)
def manifest() -> dict[str, str]:
    """logical name -> hashed name, and hashed name -> file path (as a str)."""
    table: dict[str, str] = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            rel = path.relative_to(STATIC_DIR).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            stem, dot, suffix = rel.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{rel}.{digest}"
            table[rel] = hashed
            table["@" + hashed] = rel
    return table


def hashed_name(name: str) -> str:
    return manifest()[name]


def file_for(hashed: str) -> Path | None:
    rel = manifest().get("@" + hashed)
    return STATIC_DIR / rel if rel else None
