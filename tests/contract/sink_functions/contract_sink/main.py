"""A Pub/Sub subscriber used by the contract tests: records what it receives."""

import functions_framework
from flask import request

from shared.events import decode
from tests.contract import sink_state


@functions_framework.cloud_event
def contract_sink(cloud_event):
    delivery = decode(cloud_event)
    marker = delivery.attributes.get("marker", "")
    if sink_state.fail_next.get(marker, 0) > 0:
        sink_state.fail_next[marker] -= 1
        raise RuntimeError("asked to fail")  # 500: the bus must redeliver
    sink_state.record({"kind": "event", "type": cloud_event["type"], "topic": delivery.topic,
                       "data": delivery.data, "attributes": delivery.attributes,
                       "message_id": delivery.message_id, "marker": marker,
                       "headers": dict(request.headers), "query": request.args.to_dict(),
                       "raw": request.get_data(cache=True)})
