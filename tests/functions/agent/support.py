"""Helpers for the AI-agent function tests: Retell-signed posts (signed with the Retell SDK's own
helper, ``retell.lib.webhook_auth``), AI calls started through ``voice_answer``, and a
dispatcher that delivers tasks and events to the functions under test."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlparse

from tests.functions.voice.support import TENANT, call_params, new_call_sid, post, twiml


def retell_signature(settings, raw: bytes, *, timestamp_ms: int | None = None, key: str | None = None) -> str:
    from retell.lib.webhook_auth import symmetric

    from shared.webhooks.retell import signing_key

    return symmetric["sign"](raw.decode("utf-8"), key or signing_key(settings), timestamp_ms)


def post_retell(client, settings, function: str, body: Any, *, signature: str | None = None,
                timestamp_ms: int | None = None, raw: bytes | None = None):
    """POST like Retell: JSON body, ``x-retell-signature`` over the raw bytes."""
    raw = raw if raw is not None else json.dumps(body).encode()
    sig = retell_signature(settings, raw, timestamp_ms=timestamp_ms) if signature is None else signature
    headers = {"Content-Type": "application/json"}
    if sig:
        headers["x-retell-signature"] = sig
    return client(function).post("/", data=raw, headers=headers)


def start_ai_call(client, settings, retell_sandbox, **params: str) -> tuple[str, dict[str, Any]]:
    """A call answered by the AI agent: voice_answer registers it with the Retell sandbox.
    Returns (CallSid, Retell's call object as the sandbox holds it)."""
    sid = new_call_sid()
    root = twiml(post(client, settings, "voice_answer", call_params(sid, **params)))
    sip = root.find("Dial/Sip").text
    call_id = sip.removeprefix("sip:").split("@")[0]
    return sid, dict(retell_sandbox.calls[call_id])


def event(client, settings, name: str, call: dict[str, Any], **changes: Any):
    return post_retell(client, settings, "retell_webhook", {"event": name, "call": {**call, **changes}})


def tool(client, settings, call: dict[str, Any], tool_name: str, /, **args: Any) -> tuple[int, dict[str, Any]]:
    response = post_retell(client, settings, "retell_tools", {"name": tool_name, "args": args, "call": call})
    return response.status_code, response.get_json()


TRANSCRIPT = [
    {"role": "agent", "content": "Thanks for calling Sunrise Plumbing. How can I help?",
     "words": [{"word": "Thanks", "start": 0.1, "end": 0.4}]},
    {"role": "user", "content": "My water heater is leaking. Can someone come Thursday afternoon?", "words": []},
    {"role": "agent", "content": "You're booked for Thursday, March 5 at 2:00 PM Mountain Time.", "words": []},
]


def ended(call: dict[str, Any], *, recording_url: str | None = None, **changes: Any) -> dict[str, Any]:
    """Retell's call object at call_ended (every field but the analysis)."""
    start = 1772470800000  # 2026-03-02 17:00 UTC
    out = {**call, "call_status": "ended", "start_timestamp": start, "end_timestamp": start + 125_000,
           "duration_ms": 125_000, "disconnection_reason": "user_hangup",
           "transcript": "\n".join(f"{u['role'].capitalize()}: {u['content']}" for u in TRANSCRIPT),
           "transcript_object": TRANSCRIPT, "telephony_identifier": {"twilio_call_sid": call["metadata"]["call_sid"]},
           "call_cost": {"combined_cost": 21.4, "total_duration_seconds": 125, "total_duration_unit_price": 0.17,
                         "product_costs": [{"product": "elevenlabs_tts", "unit_price": 0.07, "cost": 8.75}]},
           "latency": {"e2e": {"p50": 800.0}}}
    if recording_url:
        out["recording_url"] = recording_url
    out.update(changes)
    return out


def analyzed(call: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = ended(call, **changes)
    out["call_analysis"] = {"call_summary": "The caller booked a water heater repair for Thursday at 2 PM.",
                            "user_sentiment": "Positive", "call_successful": True, "in_voicemail": False,
                            "custom_analysis_data": {"service": "water heater", "urgent": True}}
    return out


def call_doc(ports, call_sid: str) -> dict[str, Any]:
    return ports.store().get(f"tenants/{TENANT}/calls/{call_sid}") or {}


def outbox(settings, topic: str, subscriber: str = "call_completed") -> list[dict[str, Any]]:
    """What was published on ``topic``, as delivered to one of its subscribers (the local outbox
    holds one row per subscriber: ``billing_usage`` also takes ``call.completed``)."""
    from shared.adapters.local.db import database

    rows = database(settings.z3_data_dir).read("SELECT body FROM outbox WHERE topic = ? AND subscriber = ?",
                                               (topic, subscriber))
    return [json.loads(body) for (body,) in rows]


def tasks(settings, target: str) -> list[tuple[str, bytes]]:
    from shared.adapters.local.db import database

    return [(name, bytes(body)) for name, body in
            database(settings.z3_data_dir).read("SELECT name, body FROM tasks WHERE target = ?", (target,))]


class Deliveries:
    """A dispatcher poster: delivers to the functions under test (``hosted``); anything else
    (``notify`` ...) is recorded and acknowledged, as if another capability handled it."""

    def __init__(self, client, hosted: tuple[str, ...] = ("retell_recording_copy", "call_completed")) -> None:
        self.client = client
        self.hosted = hosted
        self.elsewhere: list[tuple[str, bytes]] = []
        self.statuses: list[tuple[str, int]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        function = urlparse(url).path.rsplit("/", 1)[-1]
        if function not in self.hosted:
            self.elsewhere.append((function, body))
            return 200
        status = self.client(function).post("/", data=body, headers=headers).status_code
        self.statuses.append((function, status))
        return status


def drain(settings, client, *, timeout: float = 10.0) -> Deliveries:
    from shared.adapters.local import build_dispatcher

    deliveries = Deliveries(client)
    dispatcher = build_dispatcher(settings, poster=deliveries)
    dispatcher.drain(timeout=timeout)
    return deliveries


def stale_ms(minutes: float) -> int:
    return int((time.time() - minutes * 60) * 1000)
