"""Phone numbers: E.164 normalisation, US numbers only (the service is offered in the US)."""

from __future__ import annotations

import functools


class InvalidPhoneNumber(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def normalize_us(raw: str) -> str:
    """``"(303) 555-0100"`` / ``"+1 303 555 0100"`` -> ``"+13035550100"``; refuses non-US numbers."""
    import phonenumbers

    if not raw or not isinstance(raw, str) or len(raw) > 40:
        raise InvalidPhoneNumber("not a phone number")
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number")
    if phonenumbers.region_code_for_number(parsed) != "US":
        raise InvalidPhoneNumber("not a US phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_us(raw: str | None) -> str | None:
    try:
        return normalize_us(raw or "")
    except InvalidPhoneNumber:
        return None


def mask(e164: str) -> str:
    """For people, not logs: ``+13035550100`` -> ``(•••) •••-0100``."""
    return f"(•••) •••-{e164[-4:]}" if e164 else ""
