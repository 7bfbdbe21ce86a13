"""retell_tools: the custom functions the AI agent calls mid-call (check_availability,
book_appointment, take_message, transfer_call, lookup_caller, record_sms_consent).

Verify the signature, parse ``{"name", "args", "call"}``, run the tool. Bad arguments and
unknown tools answer 200 with ``{"error": ...}`` so the agent can say what went wrong (Retell
passes the body to the LLM; a non-2xx would only be retried and reported as a bare failure).
A body that is not a tool call at all is a 400; storage down a 503 (Retell retries).
"""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply, handle
from shared.voice import agent_web
from shared.webhooks.retell import verify_retell_request

agent_web.warm(tools=True)


def _handle(req: Incoming) -> Reply:
    from shared.voice.agent_payloads import ToolRequest
    from shared.voice.agent_tools import run_tool

    request = ToolRequest.model_validate(req.json_object())
    return Reply.json(run_tool(runtime.current(), request))


@functions_framework.http
def retell_tools(request):
    return handle(request, "retell_tools", verify=verify_retell_request, handler=_handle)
