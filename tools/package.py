"""Build one deployable, content-addressed source zip per function.

Each zip holds what Cloud Functions needs at its root: ``main.py`` (the function's own),
``shared/`` and ``requirements.txt`` (and, for ``app``, the policies in ``docs/``). The file name carries the sha256 of the contents, so
terraform redeploys exactly the functions whose code changed. Zips are reproducible (fixed
timestamps, sorted entries). Building replaces the function's older zips in the output
directory, so terraform finds exactly one per function."""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

from tools.wsgi import REPO, function_names

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_DIGEST = re.compile(r"[0-9a-f]{16}")


def _files(name: str) -> list[tuple[str, Path]]:
    entries = [("main.py", REPO / "functions" / name / "main.py"), ("requirements.txt", REPO / "requirements.txt")]
    for path in sorted((REPO / "shared").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            entries.append((path.relative_to(REPO).as_posix(), path))
    if name == "app":  # the published policies it shows (shared.web.legal)
        entries += [(p.relative_to(REPO).as_posix(), p) for p in sorted((REPO / "docs").glob("*.md"))]
    return entries


def build(name: str, out_dir: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, path in _files(name):
            info = zipfile.ZipInfo(arcname, FIXED_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}-{digest}.zip"
    target.write_bytes(data)
    # terraform deploys the one zip of each function in the directory: older builds go.
    for stale in out_dir.glob(f"{name}-*.zip"):
        if stale != target and _DIGEST.fullmatch(stale.name[len(name) + 1:-4]):
            stale.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/package")
    parser.add_argument("--out", type=Path, default=REPO / "build")
    parser.add_argument("names", nargs="*", help="functions (default: all)")
    args = parser.parse_args(argv)
    for name in args.names or function_names():
        sys.stdout.write(f"{build(name, args.out)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
