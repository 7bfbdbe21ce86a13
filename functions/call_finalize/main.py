"""call_finalize: Cloud Tasks target, the backstop that completes an AI call whose analysis never
arrived (see shared.voice.finalize). Only the tasks invoker's OIDC token can call it (IAM on the
function; shared.worker checks the token again); raise to retry, answer 2xx when done."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker
from shared.voice.finalize import FinalizeRequest, finalize_call


def _handle(req: Incoming) -> Reply:
    request = FinalizeRequest.from_bytes(req.raw_body or b"{}")
    return Reply.json({"result": finalize_call(runtime.current(), request)})


@functions_framework.http
def call_finalize(request):
    return handle_worker(request, "call_finalize", handler=_handle)
