"""voice_ivr: what happens next inside a call — the IVR menu's answer (Gather action), a
forward or AI leg that ended (Dial action), a voicemail that was recorded (Record action)."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import web
from shared.webhooks.twilio import verify_twilio_request
from shared.voice.ivr import continue_call

web.warm(twiml=True)


def _handle(req: Incoming) -> Reply:
    return Reply.xml(continue_call(runtime.current(), req.form(), req.args))


@functions_framework.http
def voice_ivr(request):
    return handle(request, "voice_ivr", verify=verify_twilio_request, handler=_handle)
