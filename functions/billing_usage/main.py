"""billing_usage: the ``call.completed`` subscriber that bills AI minutes (Pub/Sub CloudEvent).
One usage record per call and one Stripe meter event per billable call, whose identifier is the
call, so a redelivery never bills twice (``shared.billing.usage``). Raise to retry."""

import functions_framework

from shared import runtime
from shared.worker import consume


def _handle(message, message_id: str) -> None:
    from shared.billing.usage import record_call_usage

    record_call_usage(runtime.current(), message)


@functions_framework.cloud_event
def billing_usage(cloud_event):
    from shared.voice.events import CallCompleted

    consume(cloud_event, CallCompleted, _handle, function="billing_usage")
