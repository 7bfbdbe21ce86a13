"""Domain events on the bus, and the wiring of topics to subscriber functions.

``SUBSCRIPTIONS`` is the single source of truth for who listens to what: the local bus delivers
from it, ``shared.adapters.gcp.provision`` creates push subscriptions from it for the emulators,
and terraform mirrors it for production.

Both backends hand a subscriber the same CloudEvent: type
``google.cloud.pubsub.topic.v1.messagePublished`` whose data is Pub/Sub's push body
``{"message": {"data": <base64>, "attributes": {...}, "messageId": ...}, "subscription": ...}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Mapping

from shared.ports import Delivery

PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"

# topic -> subscriber function names. Extended by the issues that add subscribers.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "call.completed": ("call_completed", "billing_usage"),  # shared.voice.events.CallCompleted
}


def subscribers(topic: str) -> tuple[str, ...]:
    return SUBSCRIPTIONS.get(topic, ())


class BadEvent(ValueError):
    """A delivery that is not a Pub/Sub message we can read: acknowledge and drop (a retry
    would never succeed), after logging."""


def push_body(*, project: str, topic: str, subscription: str, data: bytes,
              attributes: Mapping[str, str], message_id: str, publish_time: str) -> dict[str, Any]:
    """Pub/Sub's push body, byte for byte the shape the service and the emulator send."""
    return {
        "message": {
            "data": base64.b64encode(data).decode("ascii"),
            "attributes": dict(attributes),
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": publish_time,
            "publish_time": publish_time,
        },
        "subscription": f"projects/{project}/subscriptions/{subscription}",
    }


def decode(cloud_event: Any) -> Delivery:
    """Read the Pub/Sub message out of a CloudEvent (functions-framework's or a dict)."""
    data = cloud_event.data if hasattr(cloud_event, "data") else cloud_event.get("data")
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise BadEvent("event data is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise BadEvent("event data has no Pub/Sub message")
    message = data["message"]
    try:
        payload = base64.b64decode(message.get("data") or "", validate=True)
    except (ValueError, TypeError) as exc:
        raise BadEvent("message data is not base64") from exc
    attributes = {str(k): str(v) for k, v in (message.get("attributes") or {}).items()}
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    if not message_id:
        raise BadEvent("message has no id")
    topic = attributes.get("z3_topic", "")
    return Delivery(topic=topic, data=payload, attributes=attributes, message_id=message_id)
