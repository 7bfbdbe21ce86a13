"""sms_inbound: Twilio's Messaging URL of every business number.

Verify the signature (over our public URL and the form body), parse the form into
``InboundSms`` (400 when malformed), hand it to ``shared.sms.inbound.receive`` and answer
Twilio with empty TwiML: keyword replies go out through the send gate over the REST API, not as
TwiML, so the gate's rules and records hold for them too.

Cold start: the Twilio REST client (~200 ms of imports) is imported by the send gate on the
first keyword reply, not here: most texts are ordinary messages that never need it, and nobody
is waiting on the line for a text's reply the way a caller waits for a voice answer.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.sms.inbound import InboundSms, receive
from shared.webhooks.twilio import verify_twilio_request

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _handle(req: Incoming) -> Reply:
    receive(runtime.current(), InboundSms.from_form(req.form()))
    return Reply.xml(EMPTY_TWIML)


@functions_framework.http
def sms_inbound(request):
    return handle(request, "sms_inbound", verify=verify_twilio_request, handler=_handle)
