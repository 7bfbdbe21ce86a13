"""retell_webhook: Retell's call events (call_started, call_ended, call_analyzed, transfer_*).

Verify the signature, parse ``{"event", "call"}``, apply it to the call record. Only fast work
happens here (Retell gives up after 10 s): the recording copy is a Cloud Task and the post-call
work a ``call.completed`` event. Unknown events and unknown calls are acknowledged (200) with a
log; a retry could never succeed. Storage down -> 503, so Retell retries.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import agent_web
from shared.webhooks.retell import verify_retell_request

agent_web.warm()


def _handle(req: Incoming) -> Reply:
    from shared.voice.agent_payloads import RetellEvent
    from shared.voice.agent_webhook import handle_event

    event = RetellEvent.model_validate(req.json_object())
    outcome = handle_event(runtime.current(), event)
    return Reply.json({"result": outcome.status, "published": outcome.published})


@functions_framework.http
def retell_webhook(request):
    return handle(request, "retell_webhook", verify=verify_retell_request, handler=_handle)
