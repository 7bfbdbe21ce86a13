"""email_events: Resend's webhooks (Svix-signed) for the emails we send.

Verify the signature (403 when forged or stale), parse the event (400 when signed but not an
event), apply it once per ``svix-id``: the email log's status moves forward only, hard bounces
and complaints go on the suppression list the mailer honours. Storage down -> 503, so Svix
retries. Event types we do not use are acknowledged.
"""

import functions_framework

from shared import runtime
from shared.http import BadRequest, Incoming, Reply, handle
from shared.providers import resend as resend_provider

resend_provider.preload()  # the signature check uses the SDK's verifier


def _verify(req: Incoming) -> None:
    from shared.webhooks import MalformedPayload
    from shared.webhooks.resend import verify_resend

    try:
        verify_resend(runtime.settings(), raw_body=req.raw_body, headers=req.headers)
    except MalformedPayload as exc:
        raise BadRequest(exc.reason) from None


def _handle(req: Incoming) -> Reply:
    from shared.email.events import apply_event, parse_event

    event = parse_event(req.json())
    result = apply_event(runtime.current(), req.headers.get("svix-id", ""), event)
    return Reply.json({"result": result})


@functions_framework.http
def email_events(request):
    return handle(request, "email_events", verify=_verify, handler=_handle)
