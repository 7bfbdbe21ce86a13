"""recording_sweep: Cloud Scheduler target (OIDC, IAM on the function, like the task targets;
shared.worker checks the token again) that re-queues ``recording_ingest`` for recordings a lost callback left at Twilio
(``shared.voice.sweep``). Answers what it found; 503 when Twilio or the store is down."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker


def _handle(req: Incoming) -> Reply:
    from shared.voice.sweep import sweep_recordings

    return Reply.json(sweep_recordings(runtime.current()).to_dict())


@functions_framework.http
def recording_sweep(request):
    return handle_worker(request, "recording_sweep", handler=_handle, invoker="scheduler", json_body=False)
