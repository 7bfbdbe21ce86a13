"""Number ids: how the dashboard names a phone number in a URL without writing it there.

A conversation, a contact and a consent record of one number share one id:
``base64url(AES-SIV(tenant key, e164))``. Deterministic, so the id is stable and needs no lookup
document per number (a text from a stranger has an id at once); opaque to anyone without the
tenant's key; and another business's id does not decrypt under this business's key, so it is
simply not found. The key (64 random bytes: AES-256-SIV) lives in the tenant's own
``keys/number_ids`` document, made once with create-if-absent (two first requests agree on the
winner's key). :class:`NumberIds` reads it once, so a page of ids costs one read.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.tenants import TenantScope

KEY_PATH = "keys/number_ids"
_ID = re.compile(r"^[A-Za-z0-9_\-]{20,64}$")


class UnknownNumberId(LookupError):
    """Not an id this business made."""


class NumberIds:
    """The id codec of one business (one key read)."""

    def __init__(self, scope: "TenantScope") -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV

        doc = scope.get(KEY_PATH)
        if doc is None:
            scope.create(KEY_PATH, {"key": base64.b64encode(secrets.token_bytes(64)).decode()})
            doc = scope.get(KEY_PATH) or {}
        self._siv = AESSIV(base64.b64decode(doc["key"]))

    def id(self, e164: str) -> str:
        return base64.urlsafe_b64encode(self._siv.encrypt(e164.encode(), None)).decode().rstrip("=")

    def number(self, value: str) -> str:
        """The E.164 number behind an id; :class:`UnknownNumberId` for anything this business did not make."""
        from cryptography.exceptions import InvalidTag

        if not isinstance(value, str) or not _ID.match(value):
            raise UnknownNumberId("malformed")
        try:
            number = self._siv.decrypt(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), None).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise UnknownNumberId("not ours") from None
        if not number.startswith("+") or not number[1:].isdigit():
            raise UnknownNumberId("not a number")
        return number


def number_id(scope: "TenantScope", e164: str) -> str:
    return NumberIds(scope).id(e164)


def ids_for(scope: "TenantScope", numbers: list[str]) -> dict[str, str]:
    codec = NumberIds(scope)
    return {n: codec.id(n) for n in numbers}


def number_of(scope: "TenantScope", value: str) -> str:
    return NumberIds(scope).number(value)
