"""quickbooks_webhook: QuickBooks Online's webhooks, and its Disconnect URL.

* ``POST`` (webhooks): ``intuit-signature`` verified on the raw body (forged -> 403), either
  format parsed (``shared.quickbooks.webhook``; neither -> 400), changed Customers queue a CDC
  pull for each connected tenant of the realm (named tasks: a repeated notification has one
  effect). Store down -> 503, Intuit retries.
* ``GET ?realmId=`` (the Disconnect URL a user lands on after disconnecting inside QuickBooks,
  unsigned): each tenant of that realm proves its grant with a refresh; the first
  ``invalid_grant`` disconnects it. Answers a short page.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle


def _verify(req: Incoming) -> None:
    from shared.webhooks.intuit import SIGNATURE_HEADER, verify_intuit

    if req.method == "POST":
        verify_intuit(runtime.settings(), raw_body=req.raw_body, signature=req.headers.get(SIGNATURE_HEADER))


def _handle(req: Incoming) -> Reply:
    from shared.quickbooks.webhook import apply, disconnect_notice

    if req.method == "GET":
        disconnect_notice(runtime.current(), req.args.get("realmId"))
        return Reply("<!doctype html><html lang=en><meta charset=utf-8><title>QuickBooks disconnected</title>"
                     "<h1>QuickBooks is disconnected from Z3 OS</h1><p>Connect it again from Settings at any time."
                     "</p></html>", 200, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
    return Reply.json(apply(runtime.current(), req.json()))


@functions_framework.http
def quickbooks_webhook(request):
    return handle(request, "quickbooks_webhook", verify=_verify, handler=_handle, methods=("GET", "POST"))
