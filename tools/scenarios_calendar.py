"""Simulated-day scenario: the demo business connects its Google Calendar, then a busy hour the
owner put in Google is not offered to a caller.

1. A caller reaches the AI agent (signed ``voice_answer``), which asks ``check_availability``
   for tomorrow (signed ``retell_tools``): the times from the weekly hours and our bookings.
2. The business connects: ``scripts/ops integrations connect google_calendar``'s service
   (``shared.calendar.connect.start``) makes the consent URL; the browser's visit is played
   against the Google sandbox (it approves at once and redirects with a code) and the redirect is
   followed to ``oauth_callback``.
3. The owner adds an event in Google (through the Calendar API, as any Google client would) over
   the first time offered; the agent's next ``check_availability`` no longer offers that hour.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable
from urllib.parse import urlsplit

CALLER = "+17205550143"


def calendar_busy_hour_not_offered(base_url: str, ports, dispatcher, tenant, out: Callable[[str], None]) -> None:
    import requests

    from shared.calendar import connect
    from shared.integrations import connections
    from tools.scenarios_ai import _reach_the_agent, _retell_call, _Stack

    settings = ports.settings
    stack = _Stack(base_url, settings)
    out("")
    out("• The business connects its Google Calendar; an hour busy there is not offered")
    params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": settings.twilio_account_sid, "From": CALLER,
              "To": tenant.numbers[0], "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
              "Called": tenant.numbers[0], "Caller": CALLER}
    call_id = _reach_the_agent(stack, tenant, params, out)
    if call_id is None:
        return
    call = _retell_call(settings, call_id)

    def availability(day: dt.date) -> list[dict[str, Any]]:
        answer = stack.retell("retell_tools", {"name": "check_availability", "call": call,
                                               "args": {"date": day.isoformat(), "limit": 10}}).json()
        return answer.get("slots") or []

    tomorrow = ports.clock().now().astimezone(tenant.zone).date() + dt.timedelta(days=1)
    for _ in range(7):  # the next day the business books at all
        before = availability(tomorrow)
        if before:
            break
        tomorrow += dt.timedelta(days=1)
    if not before:
        out("  no open times this week: nothing to show")
        return
    out(f"  agent -> check_availability {tomorrow:%A} (no calendar yet): {len(before)} times, from {before[0]['label']}")
    url = connect.start(ports, tenant_id=tenant.id, user_id=None, binding=connections.operator_binding())
    consent = requests.get(url, allow_redirects=False, timeout=10)
    if consent.status_code != 302:
        out(f"  Google's consent page answered {consent.status_code}: not connected")
        return
    query = urlsplit(consent.headers["Location"]).query
    done = requests.get(f"{base_url.rstrip('/')}/oauth_callback?{query}", timeout=20)
    out(f"  oauth_callback: HTTP {done.status_code} ({'connected' if done.ok else done.text[:120]})")
    if not done.ok:
        return
    calendar = connections.get(ports, tenant.id, "google_calendar") or {}
    out(f"  connected calendar: {(calendar.get('details') or {}).get('calendar_name')}")

    busy = before[0]
    start = dt.datetime.fromisoformat(busy["start"])
    connect.call(ports, tenant.id, lambda cal, cid: cal.insert(cid, {
        "id": uuid.uuid4().hex, "summary": "Supplier visit",
        "start": {"dateTime": start.isoformat()}, "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()}}))
    out(f"  the owner adds 'Supplier visit' in Google at {busy['label']}")
    after = availability(tomorrow)
    offered = [s["start"] for s in after]
    out(f"  agent -> check_availability {tomorrow:%A}: {len(after)} times, "
        f"{busy['label']} {'still offered (WRONG)' if busy['start'] in offered else 'not offered'}")

