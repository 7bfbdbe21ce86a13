"""voice_status: Twilio's call status callbacks and recording status callbacks."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import web
from shared.webhooks.twilio import verify_twilio_request
from shared.voice.status import handle_callback

web.warm()


def _handle(req: Incoming) -> Reply:
    return Reply.json({"result": handle_callback(runtime.current(), req.form(), req.args)})


@functions_framework.http
def voice_status(request):
    return handle(request, "voice_status", verify=verify_twilio_request, handler=_handle)
