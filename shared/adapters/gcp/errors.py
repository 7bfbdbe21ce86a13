"""Transient Google failures, as every gcp adapter maps them: :class:`StoreUnavailable` (the
caller answers 5xx, so the sender retries)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from shared.ports import StoreUnavailable


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the Google service failed or is unreachable: retry later"."""
    from google.api_core import exceptions as gex

    if isinstance(exc, (gex.ServerError, gex.TooManyRequests, gex.RetryError, gex.Aborted, gex.Cancelled)):
        return True
    try:
        from google.auth.exceptions import TransportError
        from requests.exceptions import ConnectionError as RequestsConnectionError, Timeout
    except ImportError:  # pragma: no cover - both ship with every Google client
        return isinstance(exc, (ConnectionError, TimeoutError))
    return isinstance(exc, (TransportError, RequestsConnectionError, Timeout, ConnectionError, TimeoutError))


@contextmanager
def unavailable_as_store_error(what: str) -> Iterator[None]:
    """Re-raise transient Google failures as :class:`StoreUnavailable`; anything else as is."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            raise StoreUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        raise
