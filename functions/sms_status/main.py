"""sms_status: Twilio's status callbacks for the texts we send.

Verify the signature, parse into ``StatusReport`` (400 when malformed), merge it with
``shared.sms.status.apply_report`` (idempotent, never backwards), answer 204.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.sms.status import StatusReport, apply_report
from shared.webhooks.twilio import verify_twilio_request


def _handle(req: Incoming) -> Reply:
    apply_report(runtime.current(), StatusReport.from_form(req.form()))
    return Reply("", 204, "text/plain")


@functions_framework.http
def sms_status(request):
    return handle(request, "sms_status", verify=verify_twilio_request, handler=_handle)
