"""BlobStore on the file system: ``<data dir>/blobs/data/<path>`` plus a JSON sidecar with the
content type and digest under ``blobs/meta/``. Writes are atomic (temp file + rename)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

from shared.ports import BlobInfo, NotFound


def _check(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a blob path: {path!r}")
    return path


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self._data = Path(root) / "data"
        self._meta = Path(root) / "meta"

    def put(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> BlobInfo:
        _check(path)
        info = BlobInfo(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), content_type=content_type)
        _atomic_write(self._data / path, data)
        _atomic_write(self._meta / (path + ".json"),
                      json.dumps({"size": info.size, "sha256": info.sha256, "content_type": content_type}).encode())
        return info

    def put_stream(self, path: str, chunks: Iterable[bytes], *,
                   content_type: str = "application/octet-stream") -> BlobInfo:
        _check(path)
        target = self._data / path
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        info = BlobInfo(path=path, size=size, sha256=digest.hexdigest(), content_type=content_type)
        _atomic_write(self._meta / (path + ".json"),
                      json.dumps({"size": info.size, "sha256": info.sha256, "content_type": content_type}).encode())
        return info

    def get(self, path: str) -> bytes:
        try:
            return (self._data / _check(path)).read_bytes()
        except FileNotFoundError:
            raise NotFound(path) from None

    def stat(self, path: str) -> BlobInfo | None:
        try:
            meta = json.loads((self._meta / (_check(path) + ".json")).read_text())
        except FileNotFoundError:
            return None
        if not (self._data / path).exists():
            return None
        return BlobInfo(path=path, size=meta["size"], sha256=meta["sha256"], content_type=meta["content_type"])

    def delete(self, path: str) -> None:
        for target in (self._data / _check(path), self._meta / (path + ".json")):
            try:
                target.unlink()
            except FileNotFoundError:
                pass

    def list(self, prefix: str) -> list[str]:
        if not self._data.exists():
            return []
        out = []
        for file in self._data.rglob("*"):
            if file.is_file() and not file.name.startswith(".tmp-"):
                rel = file.relative_to(self._data).as_posix()
                if rel.startswith(prefix):
                    out.append(rel)
        return sorted(out)

    def signed_url(self, path: str, *, expires: dt.timedelta, content_type: str | None = None,
                   download_as: str | None = None) -> str | None:
        """Files under the data dir have no URL of their own: the app signs and serves its route."""
        _check(path)
        return None
