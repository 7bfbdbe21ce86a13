"""billing_grace: the Cloud Tasks target due when a past-due subscription's grace period ends
(``shared.billing.grace``): still past due -> the business is suspended and told; paid
meanwhile -> nothing. Idempotent; an early delivery answers 503 (retried)."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker


def _handle(req: Incoming) -> Reply:
    from shared.billing.grace import GraceCheck, check

    result = check(runtime.current(), GraceCheck.from_bytes(req.raw_body))
    return Reply.json({"result": result}, 503 if result == "not_due" else 200)


@functions_framework.http
def billing_grace(request):
    return handle_worker(request, "billing_grace", handler=_handle)
