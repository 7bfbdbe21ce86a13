"""voice_answer: Twilio's Voice URL of every business number. Verify, route, answer with TwiML.

The Retell SDK is imported while the instance starts (``warm(retell=True)``): registering an AI
call must not wait ~2 s for an import in the middle of a caller's silence.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import web
from shared.voice.answer import answer_call
from shared.voice.params import CallParams

web.warm(twiml=True, retell=True)


def _handle(req: Incoming) -> Reply:
    params = CallParams.parse(req.form())
    return Reply.xml(answer_call(runtime.current(), params, req.args))


@functions_framework.http
def voice_answer(request):
    return handle(request, "voice_answer", verify=web.verify_twilio_request, handler=_handle)
