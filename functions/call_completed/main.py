"""call_completed: the ``call.completed`` subscriber (Pub/Sub CloudEvent). Post-call work that
must not hold the call up: the call facts for later integrations and the call summary email.
Idempotent per call; raise to retry."""

import functions_framework

from shared import runtime
from shared.worker import consume


def _handle(message, message_id: str) -> None:
    from shared.voice.post_call import handle_call_completed

    handle_call_completed(runtime.current(), message, message_id)


@functions_framework.cloud_event
def call_completed(cloud_event):
    from shared.voice.events import CallCompleted

    consume(cloud_event, CallCompleted, _handle, function="call_completed")
