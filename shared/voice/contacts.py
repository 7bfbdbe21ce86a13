"""The business's contacts, as far as answering a call needs them: a name for a number.

``tenants/{tenant_id}/contacts/{e164}`` -> ``{"name", ...}``. Keyed by the E.164 number so the
lookup on the call path is one document read, not a query. (A fuller contacts capability may
add fields; this reader only needs ``name``.)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.tenants import TenantScope


def contact_path(e164: str) -> str:
    if not e164 or not e164.startswith("+") or not e164[1:].isdigit():
        raise ValueError("contacts are keyed by E.164 numbers")
    return f"contacts/{e164}"


def lookup_contact(scope: "TenantScope", e164: str | None) -> dict[str, Any] | None:
    """The contact document for a caller's number, or None (unknown or anonymous caller)."""
    if not e164:
        return None
    return scope.get(contact_path(e164))


def contact_name(scope: "TenantScope", e164: str | None) -> str | None:
    contact = lookup_contact(scope, e164)
    name = (contact or {}).get("name")
    return name.strip() if isinstance(name, str) and name.strip() else None


def save_contact(scope: "TenantScope", e164: str, name: str, now: dt.datetime, **fields: Any) -> None:
    """Create or update a contact (merge: other fields stay). ``name_lower`` is what the
    dashboard's name search orders and filters on."""
    scope.set(contact_path(e164), {"name": name, "name_lower": name.lower(), "phone": e164, "updated_at": now,
                                   **fields}, merge=True)
