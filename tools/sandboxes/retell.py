"""Retell AI's API on loopback, for the real ``retell`` SDK (retell-sdk 6.2.13 paths and shapes).

Routes (as the SDK calls them; ``Authorization: Bearer <api key>`` required):

* ``POST /v2/register-phone-call`` -> 201, a ``PhoneCallResponse``: ``call_id``, ``agent_id``,
  ``agent_version``, ``call_status: "registered"``, ``call_type: "phone_call"``, ``direction``,
  ``from_number``, ``to_number``, ``metadata``, ``retell_llm_dynamic_variables`` ...
* ``GET /v2/get-call/{call_id}`` -> the call, 404 when unknown (or deleted)
* ``DELETE /v2/delete-call/{call_id}`` -> 204, 404 when unknown

Test and demo controls (not part of Retell's API; under ``/_control``, reachable over HTTP so a
scenario can drive the sandbox of a running stack):

* ``POST /_control/outage`` ``{"mode": "error" | "slow" | "off", "delay": seconds}``: every API
  call answers 500 (``error``), or waits ``delay`` seconds before answering (``slow``; longer
  than the register budget makes the caller time out);
* ``GET /_control/calls``: the calls registered so far (and which were deleted).

In Python: ``sandbox.outage("error")``, ``sandbox.calls``, ``sandbox.received`` (every API
request: method, path, JSON body), ``sandbox.end_call(call_id, **fields)`` (what get-call answers
once the call ended: transcript, analysis, recording URL ...). Extend by overriding :meth:`RetellSandbox.route` (e.g. to add
webhook senders that post ``call_started`` / ``call_ended`` for a registered call).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

_GET = re.compile(r"^/v2/get-call/([^/]+)$")
_DELETE = re.compile(r"^/v2/delete-call/([^/]+)$")


@dataclass
class Received:
    method: str
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class RetellSandbox(Sandbox):
    name = "retell"

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key  # None: any non-empty bearer token is accepted
        self.calls: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.received: list[Received] = []
        self.mode = "off"
        self.delay = 0.0
        self._lock = threading.Lock()
        self._release = threading.Event()

    # --- controls ---------------------------------------------------------------------------------
    def outage(self, mode: str = "error", delay: float = 6.0) -> None:
        """``error``: 500 on every API call; ``slow``: answer after ``delay`` s; ``off``: healthy."""
        if mode not in ("error", "slow", "off"):
            raise ValueError("mode is error, slow or off")
        self.mode, self.delay = mode, float(delay)
        if mode == "off":
            self._release.set()  # let requests still sleeping answer now
        else:
            self._release.clear()

    def reset(self) -> None:
        self.outage("off")
        with self._lock:
            self.calls.clear()
            self.deleted.clear()
            self.received.clear()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    # --- the app ----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_control/"):
            return self.control(request)
        body = self._body(request)
        with self._lock:
            self.received.append(Received(request.method, request.path, body,
                                          {k: v for k, v in request.headers.items() if k.lower() != "authorization"}))
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if not token or (self.api_key is not None and token != self.api_key):
            return self.error(401, "Unauthorized: invalid API key")
        if self.mode == "error":
            return self.error(500, "Internal Server Error (sandbox outage)")
        if self.mode == "slow":
            self._release.wait(self.delay)
        return self.route(request, body)

    def route(self, request: Request, body: Any) -> Response:
        if request.method == "POST" and request.path == "/v2/register-phone-call":
            return self.register_phone_call(body)
        if request.method == "GET" and (m := _GET.match(request.path)):
            call = self.calls.get(m.group(1))
            return self.json(call) if call is not None else self.error(404, "Not Found")
        if request.method == "DELETE" and (m := _DELETE.match(request.path)):
            with self._lock:
                call = self.calls.pop(m.group(1), None)
                if call is not None:
                    self.deleted.add(m.group(1))
            return Response(status=204) if call is not None else self.error(404, "Not Found")
        return self.error(404, "Not Found")

    def register_phone_call(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("agent_id"), str) or not body["agent_id"]:
            return self.error(400, "agent_id is required")
        variables = body.get("retell_llm_dynamic_variables") or {}
        if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
            return self.error(400, "retell_llm_dynamic_variables must map strings to strings")
        call_id = secrets.token_hex(16)
        call = {
            "call_id": call_id,
            "call_type": "phone_call",
            "agent_id": body["agent_id"],
            "agent_version": int(body.get("agent_version") or 1),
            "agent_name": "Sandbox receptionist",
            "call_status": "registered",
            "direction": body.get("direction") or "inbound",
            "from_number": body.get("from_number") or "",
            "to_number": body.get("to_number") or "",
            "metadata": body.get("metadata") or {},
            "retell_llm_dynamic_variables": variables,
            "data_storage_setting": "everything",
            "opt_in_signed_url": False,
        }
        with self._lock:
            self.calls[call_id] = call
        return self.json(call, status=201)

    def end_call(self, call_id: str, /, **fields: Any) -> dict[str, Any]:
        """What Retell holds once a call ended (``call_status``, transcript, analysis, recording
        URL ...): get-call answers with it from now on."""
        with self._lock:
            self.calls[call_id].update({k: v for k, v in fields.items() if k != "call_id"})
            return dict(self.calls[call_id])

    def control(self, request: Request) -> Response:
        if request.path == "/_control/outage" and request.method == "POST":
            body = self._body(request) or {}
            try:
                self.outage(str(body.get("mode", "error")), float(body.get("delay", 6.0)))
            except (TypeError, ValueError) as exc:
                return self.json({"error": str(exc)}, status=400)
            return self.json({"mode": self.mode, "delay": self.delay})
        if request.path == "/_control/calls" and request.method == "GET":
            with self._lock:
                return self.json({"calls": list(self.calls.values()), "deleted": sorted(self.deleted),
                                  "mode": self.mode})
        return self.json({"error": "unknown control"}, status=404)

    # --- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> Any:
        raw = request.get_data(cache=True)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def error(self, status: int, message: str) -> Response:
        return self.json({"status": "error", "message": message}, status=status)

    def internal_error(self, request: Request) -> Response:
        return self.error(500, "Internal Server Error")
