"""quickbooks_sync: the Cloud Tasks target that writes one booking into the business's
QuickBooks Online company (``shared.quickbooks.tasks.SyncRequest``: the caller as a Customer, or a
completed appointment as an Invoice). ``call_completed`` queues both for each booked appointment
of a connected business (the invoice at the appointment's end).

Raise to retry, return to acknowledge:

* synced, or nothing to do (business not connected, appointment gone) -> 200;
* not completed yet (the task came early) -> 503 without a stack, Cloud Tasks retries;
* QuickBooks down or still throttling after the in-process backoff -> 503, Cloud Tasks retries;
* QuickBooks refused the object for good -> 200 after reporting it to the business (the email
  and ``quickbooks_sync_failures/{appointment}``): retrying cannot succeed;
* a body that is no SyncRequest -> 200 with an error log.
"""

import functions_framework
from pydantic import ValidationError

from shared import runtime
from shared.http import Incoming, Reply
from shared.logging import get_logger
from shared.worker import handle_worker

log = get_logger("z3.quickbooks_sync")


def _handle(req: Incoming) -> Reply:
    from shared.integrations.connections import NotConnected
    from shared.quickbooks.changes import pull_changes
    from shared.quickbooks.report import report_failure
    from shared.quickbooks.sync import SyncRefused, run_task
    from shared.quickbooks.tasks import SyncRequest

    try:
        request = SyncRequest.from_bytes(req.raw_body)
    except (ValidationError, ValueError) as exc:
        log.error("dropping unreadable quickbooks task", extra={"reason": str(exc)[:200]})
        return Reply.json({"result": "dropped"})
    ports = runtime.current()
    try:
        if request.kind == "changes":
            result = {"result": "pulled", "updated": pull_changes(ports, request.tenant_id)}
        else:
            result = run_task(ports, request)
    except NotConnected:
        return Reply.json({"result": "not connected"})
    except SyncRefused as exc:
        report_failure(ports, request, exc)
        return Reply.json({"result": "refused", "code": exc.code})
    if result["result"] == "not completed":
        return Reply.json({"error": "the appointment has not ended yet, retry later"}, 503)
    return Reply.json(result)


@functions_framework.http
def quickbooks_sync(request):
    return handle_worker(request, "quickbooks_sync", handler=_handle)
