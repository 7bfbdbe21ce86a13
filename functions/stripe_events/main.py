"""stripe_events: Stripe's webhook endpoint.

Verify ``Stripe-Signature`` on the raw body (``stripe.Webhook.construct_event``, 5-minute
tolerance, fail closed: 403, nothing stored), parse the event (400 when signed but not an
event), apply it once per ``event.id`` by re-fetching the object it names from Stripe
(``shared.billing.events``: an older event never overwrites newer state). Store or Stripe down
-> 503, so Stripe retries. Unknown event types -> 200, logged.
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle


def _verify(req: Incoming) -> None:
    from shared.webhooks.stripe import SIGNATURE_HEADER, verify_stripe

    req._parsed["event"] = verify_stripe(runtime.settings(), raw_body=req.raw_body,  # noqa: SLF001
                                         signature=req.headers.get(SIGNATURE_HEADER))


def _handle(req: Incoming) -> Reply:
    from shared.billing.events import apply_event, parse_event

    req.json()  # the size, depth and number limits every JSON body passes
    result = apply_event(runtime.current(), parse_event(req._parsed["event"]))  # noqa: SLF001
    return Reply.json({"result": result})


@functions_framework.http
def stripe_events(request):
    return handle(request, "stripe_events", verify=_verify, handler=_handle)
