"""The settings every function test runs on: the embedded backend in the test's own directory,
behind the public URL the signatures are computed over; a capability adds its sandboxes' URLs."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings


def local_settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data", PUBLIC_BASE_URL="https://z3.example", **values)
