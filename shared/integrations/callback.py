"""Completing a connect flow: the one service behind the ``oauth_callback`` function.

The provider comes from our own state document, not from the request, so one redirect URI
(``PUBLIC_BASE_URL/oauth_callback``) serves every provider. Each provider registers a
:data:`Complete` in :func:`completer` (an explicit import per provider, which keeps the static
import walks of the function-secrets and Terraform tests true): it exchanges the code, calls
:func:`shared.integrations.connections.save_connection` and returns the public connection.

A flow started from the app (a session binding) sends the browser back to Settings →
Integrations (:func:`return_url`, 303), which shows the connection; an operator's flow answers a
page saying it is done (there is no page of ours to return to).

Outcomes: the user refused at the provider (``error=access_denied``) or the provider refused the
code -> :class:`NotCompleted` (400; a flow started in the app goes back to its page instead,
:func:`failure_url`, which says it was not connected); state unknown, used, expired or another
session's -> 403; the provider down -> 503 (``StoreUnavailable``: reload to retry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from shared.accounts import sessions
from shared.integrations import connections
from shared.integrations.connections import IntegrationError, PendingFlow, StateInvalid
from shared.ports import Ports

if TYPE_CHECKING:
    from shared.config import Settings

SETTINGS_PAGE = "/settings/integrations"  # under the app function

Complete = Callable[[Ports, PendingFlow, Mapping[str, str]], dict[str, Any]]


class NotCompleted(IntegrationError):
    """The user did not approve at the provider, or the provider refused the code. The state is
    used up; :attr:`flow` says whose flow it was (where its browser goes back to)."""

    def __init__(self, message: str, flow: PendingFlow, why: str = "refused") -> None:
        super().__init__(message)
        self.flow = flow
        self.why = why  # denied (at the provider), calendar (not usable), refused (the code): no personal data


def completer(provider: str) -> Complete:
    """The callback handler a provider registered."""
    if provider == "quickbooks":
        from shared.quickbooks.connect import complete

        return complete
    if provider == "google_calendar":
        from shared.calendar.connect import complete as complete_google

        return complete_google
    raise StateInvalid("state is for no known provider")


def complete(ports: Ports, args: Mapping[str, str], *, session_id: str | None) -> dict[str, Any]:
    """Consume the state, then hand the callback to its provider. ``session_id`` is the
    browser's session cookie (a flow started in the app needs that session, still live). The
    state is used up even when the user refused, so a refused flow cannot be replayed."""
    session = sessions.load(ports.store(), session_id, ports.clock().now()) if session_id else None
    key = session.key if session is not None and session.stage == "active" else None
    flow = connections.consume_state(ports, args.get("state"), session_key=key)
    if args.get("error"):
        raise NotCompleted("the connection was not approved at the provider", flow, "denied")
    try:
        return completer(flow.provider)(ports, flow, args)
    except StateInvalid:
        raise
    except IntegrationError as exc:
        raise NotCompleted(exc.reason, flow, getattr(exc, "why", "refused")) from exc


def return_url(settings: "Settings", connection: Mapping[str, Any]) -> str | None:
    """Where the browser goes after a completed flow: the app's Settings → Integrations page for
    a flow started there (``?connected=<provider>``: the page says so), None for an operator's."""
    if connection.get("connected_via") != "session":
        return None
    return f"{settings.function_url('app')}{SETTINGS_PAGE}?connected={connection['provider']}"


def failure_url(settings: "Settings", flow: PendingFlow, why: str = "refused") -> str | None:
    """Where the browser of a flow that did not complete goes: back to Settings → Integrations for
    a flow started there (``?declined=<provider>&why=<denied|calendar|refused>``: the page says
    it is not connected, and why), None for an operator's."""
    if not flow.binding.startswith("session:"):
        return None
    return f"{settings.function_url('app')}{SETTINGS_PAGE}?declined={flow.provider}&why={why}"
