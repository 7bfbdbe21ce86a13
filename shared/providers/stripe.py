"""The Stripe client: the real SDK's ``StripeClient`` built from Settings, and its failures
sorted into "retry" and "never".

* ``STRIPE_API_BASE`` points the client at the loopback sandbox (tests, ``scripts/dev``); unset,
  the SDK's own ``https://api.stripe.com``. Meter events go to the same base (the v1 meter event
  endpoint lives on the api host).
* The client is built once per instance (one connection pool), with the SDK's own network
  retries (2, with its backoff; POSTs carry an idempotency key, so a retry never doubles) and an
  8 s timeout: a hung Stripe fails inside Stripe's own 10 s webhook deadline... and inside ours.
* :class:`StripeUnavailable` (a :class:`shared.ports.StoreUnavailable`, so webhooks answer 503
  and workers retry): Stripe could not be reached, timed out, answered 5xx, rate limited us, or
  refused our key (a configuration fault we fix, not a reason to drop the work).
  :class:`StripeRejected`: Stripe refused the request for good (``resource_missing`` ...);
  ``code`` is Stripe's error code. Stripe's messages may quote input, so they are not kept.

Importing this module imports nothing from ``stripe``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from shared.ports import StoreUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

T = TypeVar("T")
TIMEOUT_SECONDS = 8
NETWORK_RETRIES = 2

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}


class StripeUnavailable(StoreUnavailable):
    """Stripe could not do it now: retry later."""


class StripeRejected(ValueError):
    def __init__(self, status: int | None, code: str | None) -> None:
        super().__init__(f"stripe refused the request: {status} {code or 'error'}")
        self.status = status
        self.code = code


def client(settings: "Settings") -> Any:
    """This instance's ``stripe.StripeClient`` for these settings."""
    key = settings.secret("stripe_secret_key") or ""
    base = (settings.stripe_api_base or "").rstrip("/")
    with _lock:
        found = _clients.get((key, base))
        if found is None:
            import stripe

            addresses = {"api": base, "meter_events": base} if base else None
            found = stripe.StripeClient(key, base_addresses=addresses, max_network_retries=NETWORK_RETRIES,
                                        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS))
            _clients[(key, base)] = found
        return found


def call(fn: Callable[[], T]) -> T:
    """Run one SDK call; map its failures to :class:`StripeUnavailable` / :class:`StripeRejected`."""
    import stripe

    try:
        return fn()
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError) as exc:
        raise StripeUnavailable(f"stripe: {type(exc).__name__}") from None
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        if status is None or status >= 500 or status == 409:  # 409: idempotent request in flight
            raise StripeUnavailable(f"stripe: {type(exc).__name__} {status}") from None
        raise StripeRejected(status, getattr(exc, "code", None)) from None


def as_dict(obj: Any) -> dict[str, Any]:
    """An SDK object as plain JSON types."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
