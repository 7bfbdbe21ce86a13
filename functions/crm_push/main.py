"""crm_push: the Cloud Tasks target that makes one attempt of one CRM webhook delivery
(``shared.crm.delivery.CrmPushTask`` as the JSON body). Only the tasks invoker's OIDC token can
call it (IAM on the function; shared.worker checks the token again).

Raise to retry, return to acknowledge:

* delivered, or failed and the next attempt queued as its own task with its backoff (or given
  up after 24 hours, or the endpoint disabled) -> 200: the attempt is done;
* the store unavailable -> 503, Cloud Tasks delivers the same attempt again (a redelivered
  attempt that was made already does nothing);
* a body that can never be a delivery (not JSON, wrong schema, unknown version) -> 200 with an
  error log: retrying it cannot succeed.
"""

import functions_framework
from pydantic import ValidationError

from shared import runtime
from shared.crm.delivery import attempt
from shared.crm.fanout import CrmPushTask
from shared.http import Incoming, Reply
from shared.logging import get_logger
from shared.worker import handle_worker

log = get_logger("z3.crm_push")


def _handle(req: Incoming) -> Reply:
    try:
        task = CrmPushTask.from_bytes(req.raw_body)
    except ValidationError as exc:
        log.error("dropping unreadable CRM delivery task", extra={"reason": str(exc)[:300]})
        return Reply.json({"result": "dropped", "error": "not a CRM delivery task"})
    if task.version > CrmPushTask.VERSION:
        log.error("dropping CRM delivery task of unknown version", extra={"version": task.version})
        return Reply.json({"result": "dropped", "error": "unknown version"})
    return Reply.json({"result": "done", **attempt(runtime.current(), task).public()})


@functions_framework.http
def crm_push(request):
    return handle_worker(request, "crm_push", handler=_handle)
