"""Texts in the simulated day, played against a running stack the way Twilio plays them.

A caller agreed to texts on a call (the voice agent's tool records the verbal consent), gets a
follow-up text through the send gate, then texts HELP, STOP and START: each is a signed form
post to ``sms_inbound`` over HTTP, and each reply is read back from our message records (sent
through the Twilio sandbox, whose delivery callbacks reach ``sms_status``). Between STOP and
START a follow-up is refused (opted out), and a text to a number that never opted in is refused
too. The ledger's chain is verified at the end.

Quiet hours are real: the stack's wall clock decides. The caller is given an area code where it
is now between 8 a.m. and 9 p.m. (Denver, New York, Los Angeles, Honolulu or Anchorage); when
it is night in all of them the follow-up is refused with ``quiet_hours`` and the scenario says
so (keyword replies are immediate replies and still go out). Listed in
``tools.simulate.scenarios()``.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, Callable


Out = Callable[[str], None]

# One fictional caller per time zone (555-01xx numbers), tried in this order.
CALLERS = ("+13035550160", "+12125550160", "+14155550160", "+18085550160", "+19075550160")
NEVER_ASKED = "+13035550169"


def _pick_caller(now: dt.datetime, fallback_zone: str) -> tuple[str, bool]:
    from shared.sms.timezones import allowed_at, recipient_zones

    for number in CALLERS:
        if allowed_at(now, recipient_zones(number, fallback_zone)):
            return number, True
    return CALLERS[0], False


def _post_text(base_url: str, settings: Any, sender: str, to: str, body: str) -> tuple[int, str]:
    import requests
    from twilio.request_validator import RequestValidator

    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": settings.twilio_account_sid,
              "From": sender, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
              "SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "US", "ToCountry": "US"}
    signature = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url("sms_inbound"), params)
    response = requests.post(f"{base_url.rstrip('/')}/sms_inbound", data=params,
                             headers={"X-Twilio-Signature": signature}, timeout=20)
    return response.status_code, sid


def _delivery(scope: Any, sid: str | None, wait: float = 3.0) -> str:
    """The text's status once the sandbox's callbacks have reached ``sms_status``."""
    if not sid:
        return "-"
    deadline = time.monotonic() + wait
    status = "?"
    while time.monotonic() < deadline:
        doc = scope.get(f"messages/{sid}") or {}
        status = doc.get("status") or "?"
        if doc.get("terminal"):
            break
        time.sleep(0.1)
    return status


def texts_with_consent(base_url: str, ports: Any, dispatcher: Any, tenant: Any, out: Out) -> None:
    from shared import consent
    from shared.phone import mask
    from shared.sms import send_sms, texts
    from shared.tenants import TenantScope

    settings = ports.settings
    scope = TenantScope(ports.store(), tenant.id)
    business_number = tenant.numbers[0]
    now = ports.clock().now()
    caller, daytime = _pick_caller(now, tenant.time_zone)
    call_id = "CA" + uuid.uuid4().hex
    out(f"Texts: a caller from {mask(caller)} says yes to texts on call {call_id[:10]}...")

    recorded = consent.record_sms_consent(scope, caller, call_id=call_id, disclosure=texts.verbal_disclosure(tenant.name),
                                          now=now)
    out(f"  verbal consent recorded (ledger event #{recorded.event.seq}, state {recorded.state.value})")

    follow_up = send_sms(ports, scope, caller, f"{tenant.name}: thanks for your call! Reply here if you need anything "
                         "before your appointment.", purpose="follow_up", source=call_id)
    if follow_up.sent:
        out(f"  follow-up text sent ({follow_up.sid[:10]}...), delivery: {_delivery(scope, follow_up.sid)}")
    else:
        note = " (night in every time zone we tried)" if not daytime else ""
        retry = f", retry at {follow_up.retry_at.isoformat()}" if follow_up.retry_at else ""
        out(f"  follow-up refused by the send gate: {follow_up.reason.value}{retry}{note}")

    for body in ("HELP", "STOP", "START"):
        status, sid = _post_text(base_url, settings, caller, business_number, body)
        doc = scope.get(f"messages/{sid}") or {}
        reply = doc.get("reply") or {}
        out(f"  caller texts {body}: sms_inbound answered {status}; consent now "
            f"{consent.current_state(scope, caller).value}; reply {reply.get('state')}: {reply.get('body')!r}")
        if reply.get("sid"):
            out(f"    reply delivery: {_delivery(scope, reply.get('sid'))}")
        if body == "STOP":
            attempt = send_sms(ports, scope, caller, f"{tenant.name}: a reminder about tomorrow.",
                               purpose="notification", source=f"reminder-{call_id}")
            out(f"  a reminder while opted out: {attempt.status} ({attempt.reason.value if attempt.reason else '-'})")

    never = send_sms(ports, scope, NEVER_ASKED, f"{tenant.name}: we have an opening tomorrow.",
                     purpose="notification", source=f"opening-{call_id}")
    out(f"  a text to {mask(NEVER_ASKED)}, who never opted in: {never.status} "
        f"({never.reason.value if never.reason else '-'})")

    report = consent.verify_chain(scope, caller)
    verdict = "OK" if report.ok else f"BROKEN at {report.broken_at}: {report.reason}"
    out(f"  ledger: {report.length} events, chain {verdict}. Evidence: "
        f"scripts/ops consent show --tenant {tenant.id} --number {caller}")
