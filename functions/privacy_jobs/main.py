"""privacy_jobs: Cloud Tasks target (OIDC) that carries out one verified privacy request
(``shared.privacy.requests.run``: export, right to know, correction, deletion, marketing
opt-out). Idempotent: a finished request answers as it is. 503 when the store or a provider is
down (the queue retries and the job continues where it stopped); an unverified request is
refused (409: nothing is released or erased before verification)."""

import functions_framework
from pydantic import ValidationError

from shared import runtime
from shared.errors import InvalidInput
from shared.http import Incoming, Reply
from shared.privacy.jobs import JobTask
from shared.privacy.requests import NotVerified, run
from shared.worker import handle_worker


class Unverified(InvalidInput):
    status = 409


def _handle(req: Incoming) -> Reply:
    try:
        task = JobTask.model_validate(req.json_object())
    except ValidationError:
        raise InvalidInput("body is not a privacy job (tenant_id, request_id)") from None
    try:
        request = run(runtime.current(), task.tenant_id, task.request_id)
    except LookupError:
        raise InvalidInput("no such privacy request") from None
    except NotVerified:
        raise Unverified("the request is not verified yet") from None
    return Reply.json({"request_id": task.request_id, "status": request.status})


@functions_framework.http
def privacy_jobs(request):
    return handle_worker(request, "privacy_jobs", handler=_handle)
