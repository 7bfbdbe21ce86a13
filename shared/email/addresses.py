"""Email addresses as we keep them: a hash for lookups, a masked form for people, the address
itself only where the tenant keeps its users' contact data."""

from __future__ import annotations

import hashlib

from shared.models.tenant import email_key


def normalize(address: str) -> str:
    return address.strip().lower()


def address_hash(address: str) -> str:
    """sha256 of the lower-cased address: the same key as ``user_logins`` (``email_key``)."""
    return email_key(address)


def mask(address: str) -> str:
    """``dana.rivera@sunrise.example`` -> ``d***@sunrise.example``: enough for a person to
    recognise their own address in a delivery log, not enough to harvest it."""
    local, _, domain = normalize(address).partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def short_hash(address: str, length: int = 24) -> str:
    return address_hash(address)[:length]


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
