"""Voice events on the bus.

``call.completed`` is published once a call is over and everything about it is known: for a call
the AI agent answered, when Retell has sent both ``call_ended`` and ``call_analyzed`` (in either
order). Delivery is at-least-once, so the subscriber (``call_completed``) is idempotent per call.
The message carries ids only; the subscriber reads the call record.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from shared.models.base import Message
from shared.ports import Ports

TOPIC_CALL_COMPLETED = "call.completed"


class CallCompleted(Message):
    VERSION = 1

    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    call_sid: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    retell_call_id: str | None = None
    source: Literal["retell", "twilio"] = "retell"  # who declared the call complete
    completed_at: dt.datetime


def publish_call_completed(ports: Ports, event: CallCompleted) -> str:
    """Publish on the bus; raises StoreUnavailable when the bus cannot take it."""
    return ports.bus().publish(TOPIC_CALL_COMPLETED, event.to_bytes(),
                               {"tenant_id": event.tenant_id, "call_sid": event.call_sid})
