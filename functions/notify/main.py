"""notify: the Cloud Tasks target that sends the business's notification emails
(``shared.notifications.NotifyRequest`` as the JSON body). Only the tasks invoker's OIDC token
can call it (IAM on the function; shared.worker checks the token again).

Raise to retry, return to acknowledge:

* sent, blocked (suppressed address, marketing without opt-in) or refused for good by Resend
  -> 200, the task is done; a redelivered task finds its logs and sends nothing twice;
* Resend (or storage) unavailable -> 503, Cloud Tasks retries with backoff;
* a body that can never be a notification (not JSON, wrong schema, unknown version) -> 200 with
  an error log: Cloud Tasks retries every non-2xx, and retrying this one cannot succeed.

The Resend SDK and the templates are loaded while the instance starts, not by the first task.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker
from shared.logging import get_logger
from shared.email import render
from shared.providers import resend as resend_provider

resend_provider.preload()
render.preload()
log = get_logger("z3.notify")


def _handle(req: Incoming) -> Reply:
    from shared.email.mailer import UnreadableTask, deliver, read_task

    try:
        request = read_task(req.raw_body)
    except UnreadableTask as exc:
        log.error("dropping unreadable notification task", extra={
            "reason": str(exc), "task": req.headers.get("X-CloudTasks-TaskName", "")})
        return Reply.json({"result": "dropped", "error": str(exc)})
    outcomes = deliver(runtime.current(), request)
    return Reply.json({"result": "done", "emails": [o.public() for o in outcomes]})


@functions_framework.http
def notify(request):
    return handle_worker(request, "notify", handler=_handle)
