"""Simulated-day scenarios: a caller reaches the AI receptionist and books an appointment; another
asks for a person and the AI transfers the live call (:func:`ai_transfers_to_a_person`).

Played the way the providers play it, over HTTP with real signatures, against any running stack:

1. Twilio: a signed ``voice_answer`` POST. The rules route the call to the AI agent (following the
   IVR's AI option with a keypress when the business has a menu); ``voice_answer`` registers the
   call with Retell (the Retell sandbox on the local stack) and answers with the SIP dial.
2. Retell, mid-call: signed ``retell_tools`` calls, as the agent would make them:
   ``lookup_caller``, ``check_availability``, ``book_appointment`` (the first offered afternoon
   slot, else the first slot).
3. Retell, lifecycle: signed ``retell_webhook`` events ``call_started``, ``call_ended`` (with the
   transcript and a recording URL, served by a loopback recording host for the scenario's
   duration) and ``call_analyzed``. Twilio's status callbacks (in-progress, completed) go to
   ``voice_status``.
4. The dispatcher is drained, so the recording copy and ``call_completed`` (call summary email,
   call facts) run; then it prints the call record.

Retell signatures are made with the Retell SDK's own helper (``retell.lib.webhook_auth``), with
the stack's webhook key (``RETELL_WEBHOOK_KEY``, else the API key); Twilio's with ``twilio.request_validator``.
"""

from __future__ import annotations

import email.utils
import json
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any, Callable
from urllib.parse import urlparse

CALLER = "+17205550142"
CALLER_NAME = "Maria Lopez"


class _Stack:
    """Signed HTTP to the functions of a running stack."""

    def __init__(self, base_url: str, settings) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.http = requests.Session()

    def twilio(self, function: str, params: dict[str, str], query: str = ""):
        from twilio.request_validator import RequestValidator

        signed_url = self.settings.function_url(function) + (f"?{query}" if query else "")
        signature = RequestValidator(self.settings.secret("twilio_auth_token")).compute_signature(signed_url, params)
        return self.http.post(f"{self.base_url}/{function}" + (f"?{query}" if query else ""), data=params,
                              headers={"X-Twilio-Signature": signature}, timeout=20)

    def retell(self, function: str, body: dict[str, Any]):
        from retell.lib.webhook_auth import symmetric

        from shared.webhooks.retell import signing_key

        raw = json.dumps(body)
        signature = symmetric["sign"](raw, signing_key(self.settings))
        return self.http.post(f"{self.base_url}/{function}", data=raw.encode(),
                              headers={"Content-Type": "application/json", "x-retell-signature": signature},
                              timeout=20)


def ringing(settings, caller: str, number: str) -> dict[str, str]:
    """Twilio's form for a new inbound call from ``caller`` to ``number`` (a fresh CallSid)."""
    return {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": settings.twilio_account_sid, "From": caller,
            "To": number, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
            "Called": number, "Caller": caller}


def _twiml(response) -> ET.Element:
    if response.status_code != 200:
        raise RuntimeError(f"voice function answered HTTP {response.status_code}: {response.text[:200]}")
    return ET.fromstring(response.content)


def _reach_the_agent(stack: _Stack, tenant, params: dict[str, str], out) -> str | None:
    """Call in; follow the IVR to its AI option if there is a menu. Returns Retell's call id."""
    root = _twiml(stack.twilio("voice_answer", params))
    gather = root.find("Gather")
    if gather is not None:
        option = next((d for d, o in tenant.settings.voice.ivr.options.items() if o.action == "ai"), None)
        if option is None:
            out("  the menu has no AI option: the call did not reach the agent")
            return None
        out(f"  IVR menu: the caller presses {option}")
        action = urlparse(gather.get("action"))
        root = _twiml(stack.twilio(action.path.rsplit("/", 1)[-1], {**params, "Digits": option}, action.query))
        redirect = root.find("Redirect")
        if redirect is not None:
            target = urlparse(redirect.text.strip())
            root = _twiml(stack.twilio(target.path.rsplit("/", 1)[-1], params, target.query))
    sip = root.find("Dial/Sip")
    if sip is None:
        out(f"  not routed to the AI agent (TwiML: {', '.join(child.tag for child in root)})")
        return None
    return sip.text.strip().removeprefix("sip:").split("@")[0]


def _retell_call(settings, call_id: str) -> dict[str, Any]:
    """Retell's call object, fetched with the real SDK (from the Retell sandbox locally)."""
    from shared.providers import retell

    return retell.client(settings).call.retrieve(call_id).model_dump(mode="json", exclude_none=True)


def _status(stack: _Stack, params: dict[str, str], status: str, duration: int | None = None) -> None:
    form = {**params, "CallStatus": status, "Timestamp": email.utils.formatdate(usegmt=True)}
    if duration is not None:
        form["CallDuration"] = str(duration)
    stack.twilio("voice_status", form)


def _call_started(stack: _Stack, params: dict[str, str], call: dict[str, Any]) -> int:
    """Twilio says the call is in progress and Retell sends ``call_started``; the start, in ms."""
    _status(stack, params, "in-progress")
    started_ms = int(time.time() * 1000)
    stack.retell("retell_webhook", {"event": "call_started", "call": {**call, "call_status": "ongoing",
                                                                       "start_timestamp": started_ms}})
    return started_ms


def _tools(stack: _Stack, call: dict[str, Any], out) -> Callable[..., dict[str, Any]]:
    """``use(tool_name, **args)``: the agent's signed ``retell_tools`` call, narrated."""
    def use(tool_name: str, /, **args: Any) -> dict[str, Any]:
        response = stack.retell("retell_tools", {"name": tool_name, "args": args, "call": call})
        answer = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
        out(f"  agent -> {tool_name}: {answer.get('result') or answer.get('error') or response.status_code}")
        return answer

    return use


def ai_books_an_appointment(base_url: str, ports, dispatcher, tenant, out: Callable[[str], None]) -> None:
    from shared.tenants import TenantScope
    from shared.voice.contacts import save_contact
    from tools.sandboxes.audio import AudioHost, silent_wav

    settings = ports.settings
    stack = _Stack(base_url, settings)
    out("")
    out("• The AI receptionist answers and books an appointment")
    scope = TenantScope(ports.store(), tenant.id)
    save_contact(scope, CALLER, CALLER_NAME, ports.clock().now())
    params = ringing(settings, CALLER, tenant.numbers[0])
    call_sid = params["CallSid"]
    call_id = _reach_the_agent(stack, tenant, params, out)
    if call_id is None:
        return
    call = _retell_call(settings, call_id)
    out(f"  voice_answer: routed to the AI agent; registered with Retell as {call_id}")
    started_ms = _call_started(stack, params, call)
    use = _tools(stack, call, out)

    use("lookup_caller")
    offered = use("check_availability").get("slots") or []
    if not offered:
        out("  nothing open: the agent would take a message instead")
        return
    pick = offered[min(1, len(offered) - 1)]  # "the second one works for me"
    booking = use("book_appointment", start=pick["start"], name=CALLER_NAME, reason="Water heater leaking")
    label = (booking.get("appointment") or {}).get("label", pick["label"])

    transcript = [
        {"role": "agent", "content": f"Thanks for calling {tenant.name}, this is the virtual receptionist. "
                                     "How can I help?"},
        {"role": "user", "content": "Hi, my water heater is leaking. Can someone come out?"},
        {"role": "agent", "content": f"Of course. I have {offered[0]['label']}, or {pick['label']}."},
        {"role": "user", "content": "The second one works for me."},
        {"role": "agent", "content": f"You're booked for {label}. Anything else?"},
        {"role": "user", "content": "No, that's all. Thanks!"},
    ]
    duration_ms = 96_000
    with AudioHost() as host:
        host.add(call_id, silent_wav(3.0))
        final = {**call, "call_status": "ended", "start_timestamp": started_ms,
                 "end_timestamp": started_ms + duration_ms, "duration_ms": duration_ms,
                 "disconnection_reason": "user_hangup", "recording_url": host.url_for(call_id),
                 "transcript": "\n".join(f"{u['role'].capitalize()}: {u['content']}" for u in transcript),
                 "transcript_object": [{**u, "words": []} for u in transcript],
                 "call_cost": {"combined_cost": 16.3, "total_duration_seconds": 96, "total_duration_unit_price": 0.17,
                               "product_costs": []}}
        stack.retell("retell_webhook", {"event": "call_ended", "call": final})
        _status(stack, params, "completed", duration=duration_ms // 1000)
        analysis = {"call_summary": f"{CALLER_NAME} reported a leaking water heater and booked {label}.",
                    "user_sentiment": "Positive", "call_successful": True, "in_voicemail": False,
                    "custom_analysis_data": {"service": "water heater", "urgent": True}}
        stack.retell("retell_webhook", {"event": "call_analyzed", "call": {**final, "call_analysis": analysis}})
        record = _wait_for_post_call(ports, dispatcher, scope, call_sid)
    _print_record(out, record, scope, call_sid)


def _wait_for_post_call(ports, dispatcher, scope, call_sid: str, timeout: float = 20.0) -> dict[str, Any]:
    """Let the dispatcher deliver the recording copy and call.completed (and what they queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dispatcher is not None:
            dispatcher.drain(timeout=2.0)
        record = scope.get(f"calls/{call_sid}") or {}
        if record.get("recordings") and scope.get(f"call_facts/{call_sid}"):
            return record
        time.sleep(0.1)
    return scope.get(f"calls/{call_sid}") or {}


def _print_record(out, record: dict[str, Any], scope, call_sid: str) -> None:
    from shared.scheduling.appointments import appointments_for_call

    out(f"  call record {call_sid}: route {record.get('route')} ({record.get('route_reason')}), "
        f"status {record.get('status')}, Retell {record.get('retell_status')}, "
        f"notice played: {record.get('recording_notice_played')}")
    out(f"  transcript: {len(record.get('transcript') or [])} turns; summary: {record.get('summary')}")
    out(f"  sentiment {record.get('sentiment')}, successful: {record.get('success')}, "
        f"cost {(record.get('cost') or {}).get('cents')} cents")
    for appt in appointments_for_call(scope, call_sid):
        out(f"  appointment: {appt.label} for {appt.customer_name} ({appt.status})")
    for rec in record.get("recordings") or []:
        out(f"  recording stored: {rec['blob_path']} ({rec['size']} bytes, from {rec['source']})")
    if not record.get("recordings"):
        out("  recording: NOT stored yet (is the dispatcher running?)")
    facts = scope.get(f"call_facts/{call_sid}")
    out(f"  post-call: call summary email queued, call facts written (outcome {facts['outcome']})" if facts
        else "  post-call: call_completed has NOT run yet")
    out("  action log:")
    for entry in record.get("action_log") or []:
        out(f"    - {entry['text']}")


TRANSFER_CALLER = "+17205550177"


def ai_transfers_to_a_person(base_url: str, ports, dispatcher, tenant, out: Callable[[str], None]) -> None:
    """The caller asks the AI receptionist for a person: ``transfer_call`` redirects the live
    Twilio call (the stack's Twilio sandbox, over the real SDK), and the sandbox plays what Twilio
    does next: the person's phone answers, the leg is recorded, the Dial's action and the call's
    ``completed`` status come back to the stack as signed callbacks."""
    import requests

    from shared.tenants import TenantScope
    from tools.scenarios_voice import configure_demo

    settings = ports.settings
    stack = _Stack(base_url, settings)
    out("")
    out("• The AI receptionist transfers a caller to a person, who answers")
    configure_demo(ports, tenant)
    scope = TenantScope(ports.store(), tenant.id)
    voice = ((ports.store().get(f"tenants/{tenant.id}") or {}).get("settings") or {}).get("voice") or {}
    person = (voice.get("team") or [{}])[0].get("name")
    if not person or not settings.twilio_api_base_url:
        out("  no team member or no Twilio sandbox: nothing to transfer to")
        return
    params = ringing(settings, TRANSFER_CALLER, tenant.numbers[0])
    call_sid = params["CallSid"]
    # Twilio knows the call and where its status callbacks go (the number's Status Callback URL)
    requests.post(f"{settings.twilio_api_base_url.rstrip('/')}/_control/Calls.json", timeout=5,
                  auth=(settings.twilio_account_sid, settings.secret("twilio_auth_token")),
                  data={"CallSid": call_sid, "From": TRANSFER_CALLER, "To": params["To"],
                        "StatusCallback": settings.function_url("voice_status")})
    call_id = _reach_the_agent(stack, tenant, params, out)
    if call_id is None:
        return
    call = _retell_call(settings, call_id)
    started_ms = _call_started(stack, params, call)
    response = stack.retell("retell_tools", {"name": "transfer_call", "args": {"to": person.split()[0]},
                                             "call": call})
    answer = response.json() if response.status_code == 200 else {}
    out(f"  agent -> transfer_call: {answer.get('result') or answer.get('error') or response.status_code}")
    if not answer.get("transferred"):
        return
    # Twilio ends the <Dial> to Retell and asks its action (the answer is ignored: the call moved on)
    stack.twilio("voice_ivr", {**params, "CallStatus": "in-progress", "DialCallStatus": "completed"},
                 f"kind=ai&step=dial&t={tenant.id}")
    record = _wait_for(scope, call_sid, lambda r: r.get("status") == "completed"
                       and (r.get("ai_transfer") or {}).get("dial_status"))
    transfer = record.get("ai_transfer") or {}
    out(f"  Twilio: {person}'s phone rang; answered by {record.get('answered_by')}, transfer {transfer.get('status')}"
        f" after {transfer.get('talk_seconds')} s, call {record.get('status')}")
    ended = {**call, "call_status": "ended", "start_timestamp": started_ms, "end_timestamp": started_ms + 21_000,
             "duration_ms": 21_000, "disconnection_reason": "user_hangup",
             "transcript": f"User: Can I talk to {person}?\nAgent: Of course, connecting you now.",
             "transcript_object": [{"role": "user", "content": f"Can I talk to {person}?", "words": []},
                                   {"role": "agent", "content": "Of course, connecting you now.", "words": []}]}
    stack.retell("retell_webhook", {"event": "call_ended", "call": ended})
    analysis = {"call_summary": f"The caller asked for {person} and was transferred.", "user_sentiment": "Neutral",
                "call_successful": True, "in_voicemail": False}
    stack.retell("retell_webhook", {"event": "call_analyzed", "call": {**ended, "call_analysis": analysis}})
    record = _wait_for_post_call(ports, dispatcher, scope, call_sid)
    _print_record(out, record, scope, call_sid)


def _wait_for(scope, call_sid: str, done: Callable[[dict[str, Any]], Any], timeout: float = 20.0) -> dict[str, Any]:
    """The call record once ``done(record)`` holds (the sandbox posts its callbacks meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = scope.get(f"calls/{call_sid}") or {}
        if done(record):
            return record
        time.sleep(0.1)
    return scope.get(f"calls/{call_sid}") or {}
