"""Where a connection lives (``tenants/{tenant}/integrations/{provider}``), for code that only
needs to know whether one exists: importing it reaches no Cipher and no provider client."""

from __future__ import annotations

COLLECTION = "integrations"


def connection_path(tenant_id: str, provider: str) -> str:
    return f"tenants/{tenant_id}/{COLLECTION}/{provider}"


def is_connected(data: dict | None) -> bool:
    return bool(data) and data.get("status") == "connected" and bool(data.get("tokens_sealed"))
