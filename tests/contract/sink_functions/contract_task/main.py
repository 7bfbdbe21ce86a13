"""A Cloud Tasks target used by the contract tests: records what it receives."""

import functions_framework

from tests.contract import sink_state


@functions_framework.http
def contract_task(request):
    body = request.get_data()
    marker = request.headers.get("X-Marker", "")
    if sink_state.fail_next.get(marker, 0) > 0:
        sink_state.fail_next[marker] -= 1
        return ("try again", 503)
    sink_state.record({"kind": "task", "body": body, "marker": marker,
                       "task_name": request.headers.get("X-CloudTasks-TaskName", ""),
                       "headers": dict(request.headers)})
    return ("ok", 200)
