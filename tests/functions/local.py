"""The settings every function test runs on: the embedded backend in the test's own directory,
behind the public URL the signatures are computed over; a capability adds its sandboxes' URLs."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings


def local_settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data", PUBLIC_BASE_URL="https://z3.example", **values)


def worker_headers(function: str, body: bytes, headers: dict[str, str] | None = None) -> dict[str, str]:
    """``headers`` plus the signature the local dispatcher puts on a delivery to a worker (what
    a test that posts to a worker directly must send, as Cloud Tasks sends its OIDC token)."""
    from shared import runtime
    from shared.webhooks.invoker import DELIVERY_HEADER, delivery_key, sign_delivery

    key = delivery_key(runtime.settings().z3_data_dir)
    return {"Content-Type": "application/json", **(headers or {}), DELIVERY_HEADER: sign_delivery(key, function, body)}
