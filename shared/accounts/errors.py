"""The errors of the accounts services. The web layer (``shared.web.errors``) maps each to a
status code and a message a person can act on; ``code`` is stable for API clients. Messages
never hold an address, a password or a token."""

from __future__ import annotations

from typing import Any


class AccountError(Exception):
    code = "bad_request"
    status = 400
    # field path -> what is wrong with it, for an error about several fields at once (the
    # settings and support forms); the API answers it as ``error.fields``.
    errors: dict[str, str] | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, Any]:
        """What an API error answer carries beside code and message: the field at fault, and
        each field's message when several are."""
        return {"field": self.field, "fields": self.errors}


class InvalidInput(AccountError):
    code = "invalid_input"
    status = 422


class SignupRefused(AccountError):
    """The policy does not allow this account (outside the US, under 18, terms not accepted)."""

    code = "signup_refused"
    status = 422


class AlreadyRegistered(AccountError):
    code = "already_registered"
    status = 409


class WeakPassword(InvalidInput):
    code = "weak_password"


class Unauthenticated(AccountError):
    code = "unauthenticated"
    status = 401


class BadCredentials(Unauthenticated):
    """Wrong email or wrong password: one message for both (no account enumeration)."""

    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("The email or password is not correct.")


class BadCode(Unauthenticated):
    code = "bad_code"

    def __init__(self, message: str = "That code is not correct or has expired.") -> None:
        super().__init__(message)


class Throttled(AccountError):
    """Too many attempts: wait ``retry_after`` seconds (or follow the emailed unlock link)."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Forbidden(AccountError):
    code = "forbidden"
    status = 403


class NotFound(AccountError):
    """Absent, or another tenant's: the same answer (no existence leak)."""

    code = "not_found"
    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class InvalidLink(AccountError):
    """A verification, reset, invite or unlock link that is unknown, used or expired."""

    code = "invalid_link"
    status = 410

    def __init__(self, message: str = "This link is not valid any more. Ask for a new one.") -> None:
        super().__init__(message)


class Conflict(AccountError):
    code = "conflict"
    status = 409
