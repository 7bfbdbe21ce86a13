"""email_unsubscribe: the one-click unsubscribe link of marketing emails (RFC 8058).

``POST ?token=...`` (the mail app's one-click button sends ``List-Unsubscribe=One-Click``, our
confirmation page sends the same) turns the business's marketing email off; ``GET`` shows a
confirmation button, because link scanners open every link in an email. The token is checked
first: forged -> 403, expired -> 410. Public (no IAM): the signed token is the authorisation.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle


def _handle(req: Incoming) -> Reply:
    from shared.email.unsubscribe import respond

    ports = runtime.current()
    status, body = respond(ports.store(), ports.settings, method=req.method, token=req.args.get("token"),
                           now=ports.clock().now())
    return Reply(body, status, "text/html; charset=utf-8", {"Cache-Control": "no-store"})


@functions_framework.http
def email_unsubscribe(request):
    return handle(request, "email_unsubscribe", handler=_handle, methods=("GET", "POST"))
