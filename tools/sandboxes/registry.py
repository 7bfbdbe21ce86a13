"""The provider sandboxes the local stack serves, and the setting that points each SDK at one.

name -> (setting, factory). ``scripts/dev`` mounts ``factory()`` (a WSGI app speaking the
provider's wire format) at ``/_sandbox/<name>`` and sets ``<setting>`` to that URL (or, for a
provider configured by several settings, each setting of a ``{setting: path below the root}``
dict to its URL), so the real
SDK client talks to it through ordinary configuration; a sandbox no setting points at (``{}``:
the CRM receiver, whose URL is a business's endpoint, tenant data) is only mounted. Tests start the same apps on their own
loopback ports. Each capability registers its provider here.
"""

from __future__ import annotations

from typing import Any, Callable

Factory = Callable[[], Any]
Setting = str | dict[str, str]


def registry() -> dict[str, tuple[Setting, Factory]]:
    entries: dict[str, tuple[Setting, Factory]] = {}
    entries["retell"] = ("RETELL_BASE_URL", _retell)
    entries["twilio"] = ("TWILIO_API_BASE_URL", _twilio)
    entries["resend"] = ("RESEND_API_URL", _resend)
    entries["stripe"] = ("STRIPE_API_BASE", _stripe)
    entries["intuit"] = ({"INTUIT_API_BASE_URL": "", "INTUIT_DISCOVERY_URL": "/.well-known/openid_configuration"},
                         _intuit)
    entries["google"] = ({"GOOGLE_OAUTH_AUTH_URL": "/o/oauth2/auth", "GOOGLE_OAUTH_TOKEN_URL": "/token",
                          "GOOGLE_OAUTH_REVOKE_URL": "/revoke", "GOOGLE_CALENDAR_API_URL": "/calendar/v3"}, _google)
    entries["crm"] = ({}, _crm)
    return entries


def _retell():
    from tools.sandboxes.retell import RetellSandbox

    return RetellSandbox()


def _twilio():
    """Twilio's REST API; status callbacks are played back to ``sms_status`` in the background."""
    from shared.config import get_settings
    from tools.sandboxes.twilio import TwilioSandbox

    return TwilioSandbox.from_settings(get_settings(), callbacks="auto")


def _resend():
    """Resend's email API; its webhooks (sent, delivered ...) are played back to ``email_events``."""
    from shared.config import get_settings
    from tools.sandboxes.resend import ResendSandbox

    return ResendSandbox.from_settings(get_settings(), webhooks="auto")


def _stripe():
    """Stripe's API; its signed events are posted to ``stripe_events`` in the background."""
    from shared.config import get_settings
    from tools.sandboxes.stripe import StripeSandbox

    return StripeSandbox.from_settings(get_settings(), webhooks="auto")


def _intuit():
    """Intuit's OAuth endpoints and the QuickBooks Online accounting API (one company per connect)."""
    from shared.config import get_settings
    from tools.sandboxes.intuit import IntuitSandbox

    return IntuitSandbox.from_settings(get_settings())


def _google():
    """Google's OAuth endpoints and the Calendar API (freeBusy, events)."""
    from shared.config import get_settings
    from tools.sandboxes.google import GoogleSandbox

    return GoogleSandbox.from_settings(get_settings())


def _crm():
    """A business's CRM receiving our webhooks (Standard Webhooks signatures checked)."""
    from tools.sandboxes.crm import CrmReceiver

    return CrmReceiver()
