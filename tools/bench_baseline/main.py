"""The benchmark's baseline function: one document read, fixed TwiML. The floor a Twilio
webhook cannot go below on this stack (functions-framework + one store round trip)."""

import functions_framework

from shared import runtime

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thanks for calling.</Say></Response>'


@functions_framework.http
def baseline(request):
    runtime.current().store().get("phone_numbers/" + (request.form.get("To") or "+13035550100"))
    return TWIML, 200, {"Content-Type": "text/xml"}
