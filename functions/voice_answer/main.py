"""voice_answer: Twilio's Voice URL of every business number. Verify, route, answer with TwiML.
With ``?fallback=1`` it is also the numbers' Fallback URL (``shared.voice.answer.answer_fallback``).

The Retell SDK is imported while the instance starts (``warm(retell=True)``): registering an AI
call must not wait ~2 s for an import in the middle of a caller's silence.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import web
from shared.voice.answer import answer_call, answer_fallback
from shared.voice.params import CallParams

web.warm(twiml=True, retell=True)


def _handle(req: Incoming) -> Reply:
    params = CallParams.parse(req.form())
    if req.args.get("fallback"):  # Twilio's Fallback URL: answers even while the store is down
        return Reply.xml(answer_fallback(runtime.current(), params, req.args))
    return Reply.xml(answer_call(runtime.current(), params, req.args))


@functions_framework.http
def voice_answer(request):
    return handle(request, "voice_answer", verify=web.verify_twilio_request, handler=_handle)
