"""Path parameters the API's operations share (their JSON Schema for the OpenAPI document)."""

from __future__ import annotations

ID = {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,64}$"}
E164 = {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$", "examples": ["+14155550160"]}
