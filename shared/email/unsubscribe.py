"""One-click unsubscribe from marketing email (RFC 8058), with signed links.

Every marketing email carries a link ``PUBLIC_BASE_URL/email_unsubscribe?token=...`` in its
footer and in the ``List-Unsubscribe`` header, with ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``: mail apps then offer their own "Unsubscribe" button, which POSTs
``List-Unsubscribe=One-Click`` to that URL.

The token is ``v1.<payload>.<mac>`` (base64url): the payload names the business, a short hash
of the recipient (no address) and an expiry; the MAC is HMAC-SHA256 under a key derived from
``Z3_SESSION_SECRET`` for this one purpose (so no other token we sign can pass for it). A
forged, altered or expired token is refused.

The link holds for 90 days (our choice; CAN-SPAM requires at least 30 days after sending). The
expiry is derived from the email's preparation time, not "now", so a retried send renders the
same bytes and Resend's idempotency key sees the same request.

Unsubscribing turns the business's ``marketing_email_opt_in`` off (the opt-in is per business,
as the settings hold it) and records when and how in ``tenants/{t}/email_preferences/marketing``.
Idempotent: a second click changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from shared.email.addresses import short_hash

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.ports import DocumentStore

VALID_FOR = dt.timedelta(days=90)
_PURPOSE = b"z3-email-unsubscribe-v1"
FUNCTION = "email_unsubscribe"


class InvalidToken(ValueError):
    """Forged, altered or unreadable."""


class ExpiredToken(InvalidToken):
    """Genuine but past its expiry."""


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: str
    recipient: str  # short hash of the address
    expires: dt.datetime


def _key(settings: "Settings") -> bytes:
    return hmac.new(settings.secret("z3_session_secret").encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(settings: "Settings", *, tenant_id: str, address: str, issued_at: dt.datetime) -> str:
    expires = int((issued_at + VALID_FOR).timestamp())
    payload = _b64(json.dumps({"t": tenant_id, "r": short_hash(address, 16), "e": expires},
                              separators=(",", ":"), sort_keys=True).encode())
    mac = _b64(hmac.new(_key(settings), f"v1.{payload}".encode(), hashlib.sha256).digest())
    return f"v1.{payload}.{mac}"


def read_token(settings: "Settings", token: str | None, *, now: dt.datetime) -> Unsubscribe:
    """The unsubscribe a genuine, unexpired token asks for; :class:`InvalidToken` /
    :class:`ExpiredToken` otherwise."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != "v1" or len(token or "") > 1024:
        raise InvalidToken("not an unsubscribe token")
    expected = hmac.new(_key(settings), f"v1.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
        data = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("unreadable token") from None
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("bad signature")
    if not isinstance(data, dict) or not isinstance(data.get("t"), str) or not isinstance(data.get("e"), int):
        raise InvalidToken("bad payload")
    expires = dt.datetime.fromtimestamp(data["e"], dt.timezone.utc)
    if expires <= now:
        raise ExpiredToken("link expired")
    return Unsubscribe(tenant_id=data["t"], recipient=str(data.get("r", "")), expires=expires)


def unsubscribe_url(settings: "Settings", token: str) -> str:
    return f"{settings.function_url(FUNCTION)}?{urlencode({'token': token})}"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 headers for a marketing email."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def apply(store: "DocumentStore", request: Unsubscribe, *, now: dt.datetime, method: str = "one_click") -> bool:
    """Turn the business's marketing email off. True when this call changed it; False when it
    was already off or the business no longer exists."""
    from shared.tenants import TenantScope

    scope = TenantScope(store, request.tenant_id)

    def run(tx) -> bool:
        tenant = tx.get(scope.root)
        if tenant is None:
            return False
        if not (tenant.get("settings") or {}).get("marketing_email_opt_in"):
            return False
        tx.update(scope.root, {"settings.marketing_email_opt_in": False, "updated_at": now})
        tx.set(scope.path("email_preferences/marketing"), {
            "opted_in": False, "changed_at": now, "method": method, "recipient": request.recipient})
        return True

    return store.transaction(run)


# --- the web endpoint (``email_unsubscribe``) ---------------------------------------------------

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{title}</title></head>
<body style="font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
max-width:520px;margin:48px auto;padding:0 16px;color:#1f2933;line-height:1.5;">
<h1 style="font-size:22px;">{title}</h1>{body}</body></html>"""


def page(title: str, body_html: str) -> str:
    import html

    return _PAGE.format(title=html.escape(title), body=body_html)


def respond(store: "DocumentStore", settings: "Settings", *, method: str, token: str | None,
            now: dt.datetime) -> tuple[int, str]:
    """``(status, html)`` for a visit (GET: a confirmation button, because link scanners follow
    links and RFC 8058 forbids unsubscribing on GET) or a one-click POST (unsubscribe)."""
    import html

    try:
        request = read_token(settings, token, now=now)
    except ExpiredToken:
        return 410, page("This link has expired",
                         "<p>Unsubscribe links work for 90 days. You can turn Z3 OS product news off at any time "
                         "in your account settings.</p>")
    except InvalidToken:
        return 403, page("This link is not valid",
                         "<p>Open the unsubscribe link from the email again, or turn Z3 OS product news off in "
                         "your account settings.</p>")
    from shared.tenants import TenantScope

    try:
        scope = TenantScope(store, request.tenant_id)
    except ValueError:
        return 403, page("This link is not valid", "<p>Turn Z3 OS product news off in your account settings.</p>")
    tenant = store.get(scope.root)
    name = html.escape(str((tenant or {}).get("name") or "your business"))
    if method == "GET":
        action = html.escape(unsubscribe_url(settings, token or ""), quote=True)
        return 200, page("Unsubscribe from Z3 OS product news?",
                         f"<p>{name} will no longer receive Z3 OS newsletters and offers. Notifications about "
                         "your calls, messages and account keep coming.</p>"
                         f'<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" '
                         'value="One-Click"><button type="submit" style="font-size:16px;padding:8px 16px;">'
                         "Unsubscribe</button></form>")
    apply(store, request, now=now)
    return 200, page("You are unsubscribed",
                     f"<p>{name} will no longer receive Z3 OS product news. Notifications about your calls, "
                     "messages and account keep coming. You can opt in again in your settings.</p>")
