"""oauth_callback: where a provider sends the business's browser back after "Connect"
(``GET ?code=...&state=...``, plus ``realmId`` from QuickBooks).

The ``state`` is ours and single use (``shared.integrations.connections``): unknown, used,
expired, or started in another session than this browser's -> 403. A flow started in the app
ends with a 303 back to its Settings → Integrations page; an operator's with a page saying so. The provider is named by the
state; its registered handler exchanges the code and stores the tokens encrypted. Provider down
-> 503 (reload to retry, before the state's 10 minutes run out). Public (no IAM): the state is
the authorisation; the page holds no token and is never cached.
"""

import html

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle

SESSION_COOKIES = ("__Host-z3_session", "z3_session")  # shared.web.auth's names (production, local)


def _session_cookie(req: Incoming) -> str | None:
    from werkzeug.http import parse_cookie

    cookies = parse_cookie(req.headers.get("Cookie", ""))
    return next((cookies[name] for name in SESSION_COOKIES if cookies.get(name)), None)


def _handle(req: Incoming) -> Reply:
    from shared.integrations.callback import complete, return_url
    from shared.integrations.connections import PROVIDER_LABELS

    ports = runtime.current()
    connection = complete(ports, req.args, session_id=_session_cookie(req))
    back = return_url(ports.settings, connection)
    if back is not None:  # started in the app: back to Settings → Integrations
        return Reply("", 303, "text/plain; charset=utf-8",
                     {"Location": back, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    label = html.escape(PROVIDER_LABELS.get(connection["provider"], connection["provider"]))
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{label} connected</title>"
            f"<h1>{label} is connected</h1><p>You can close this tab and return to Z3 OS.</p></html>")
    return Reply(page, 200, "text/html; charset=utf-8",
                 {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@functions_framework.http
def oauth_callback(request):
    return handle(request, "oauth_callback", handler=_handle, methods=("GET",))
