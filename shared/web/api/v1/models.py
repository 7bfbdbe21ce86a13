"""Path parameters the API's operations share (their JSON Schema for the OpenAPI document)."""

from __future__ import annotations

ID = {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,64}$"}
NUMBER_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{20,64}$",
             "description": "a phone number as an opaque id of this business (never the number itself)"}
