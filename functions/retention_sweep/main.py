"""retention_sweep: Cloud Scheduler target (daily, OIDC) that deletes what is past its time
(``shared.retention.sweep``); its own continuation tasks (Cloud Tasks, OIDC of the tasks
invoker) post ``{"run_id"}`` to continue a run that ran out of time. Answers the report; 503
when the store is down (the scheduler or the queue retries, and the run resumes at its cursors)."""

import re

import functions_framework

from shared import runtime
from shared.errors import InvalidInput
from shared.http import Incoming, Reply
from shared.retention.sweep import daily_as_of, run_exists, sweep
from shared.worker import handle_worker

RUN_ID = re.compile(r"^run-[0-9]{8}T[0-9]{6}$")


def _handle(req: Incoming) -> Reply:
    ports = runtime.current()
    body = req.json() if req.raw_body.strip() else None
    run_id = body.get("run_id") if isinstance(body, dict) else None
    if run_id is not None and (not isinstance(run_id, str) or not RUN_ID.match(run_id)):
        raise InvalidInput("run_id is not a retention run id")
    if run_id is not None and not run_exists(ports, run_id):
        raise InvalidInput("no retention run of that id")
    as_of = None if run_id else daily_as_of(ports.clock().now())
    report = sweep(ports, as_of=as_of, run_id=run_id, budget_seconds=ports.settings.z3_retention_budget_seconds)
    return Reply.json(report.to_dict())


@functions_framework.http
def retention_sweep(request):
    return handle_worker(request, "retention_sweep", handler=_handle, invoker=("scheduler", "tasks"),
                         json_body=False)
