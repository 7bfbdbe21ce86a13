"""voice_answer: Twilio's Voice URL of every business number. Verify, route, answer with TwiML.
With ``?fallback=1`` it is also the numbers' Fallback URL (``shared.voice.answer.answer_fallback``).

The Retell SDK (~1.5 s to import) is imported in the background from the instance's start
(``shared.warmup``, started on the last line below): a voicemail or IVR answer never waits for
it, and only the AI route joins it (``shared.providers.retell.client``), so registering an AI
call does not wait for an import in the middle of a caller's silence either.
"""

import functions_framework

from shared import runtime, warmup
from shared.http import Incoming, Reply, handle
from shared.providers import retell
from shared.voice import web
from shared.voice.answer import answer_call, answer_fallback
from shared.voice.params import CallParams
from shared.webhooks.twilio import verify_twilio_request

web.warm(twiml=True)


def _handle(req: Incoming) -> Reply:
    params = CallParams.parse(req.form())
    if req.args.get("fallback"):  # Twilio's Fallback URL: answers even while the store is down
        return Reply.xml(answer_fallback(runtime.current(), params, req.args))
    return Reply.xml(answer_call(runtime.current(), params, req.args))


@functions_framework.http
def voice_answer(request):
    with warmup.answering():  # the SDK's import, if not begun yet, waits for this answer
        return handle(request, "voice_answer", verify=verify_twilio_request, handler=_handle)


warmup.start(retell.SDK, retell.preload)  # last: after this module's own imports
