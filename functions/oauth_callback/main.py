"""oauth_callback: where a provider sends the business's browser back after "Connect"
(``GET ?code=...&state=...``, plus ``realmId`` from QuickBooks).

The ``state`` is ours and single use (``shared.integrations.connections``): unknown, used,
expired, or started in another session than this browser's -> 403 (a page saying so). A flow
started in the app ends with a 303 back to its Settings → Integrations page, connected or not
(refused at the provider: ``?declined=``); an operator's with a page saying which. The provider is named by the
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


_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(title: str, text: str, status: int) -> Reply:
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></html>")
    return Reply(page, status, "text/html; charset=utf-8", dict(_HEADERS))


def _back(location: str) -> Reply:
    return Reply("", 303, "text/plain; charset=utf-8", {"Location": location, **_HEADERS})


def _handle(req: Incoming) -> Reply:
    from shared.integrations.callback import NotCompleted, complete, failure_url, return_url
    from shared.integrations.connections import PROVIDER_LABELS, StateInvalid

    ports = runtime.current()
    try:
        connection = complete(ports, req.args, session_id=_session_cookie(req))
    except NotCompleted as exc:  # refused at the provider, or the code refused: a person reads this
        label = PROVIDER_LABELS.get(exc.flow.provider, exc.flow.provider)
        back = failure_url(ports.settings, exc.flow, exc.why)
        if back is not None:
            return _back(back)
        return _page(f"{label} was not connected", f"Not connected: {exc.reason}. Start again when ready.", 400)
    except StateInvalid:
        return _page("This connect link cannot be used",
                     "It expired, was already used, or was started in another browser or session. "
                     "Start again from Settings, Integrations in Z3 OS.", 403)
    back = return_url(ports.settings, connection)
    if back is not None:  # started in the app: back to Settings → Integrations
        return _back(back)
    label = PROVIDER_LABELS.get(connection["provider"], connection["provider"])
    return _page(f"{label} is connected", "You can close this tab and return to Z3 OS.", 200)


@functions_framework.http
def oauth_callback(request):
    return handle(request, "oauth_callback", handler=_handle, methods=("GET",))
