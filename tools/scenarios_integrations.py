"""Simulated-day scenarios for the business's other systems: its QuickBooks Online company and its
CRM (issue 16).

:func:`quickbooks_customer_and_invoice`:

1. The business connects QuickBooks: ``scripts/ops integrations connect quickbooks``'s service
   (``shared.quickbooks.connect.start``) makes the consent URL; the browser's visit is played
   against the Intuit sandbox (it approves at once and redirects with code, state and realmId)
   and the redirect is followed to ``oauth_callback``. Invoices bill the company's "Services"
   item at the demo's rate (``connect.set_item``, what ``scripts/ops integrations
   quickbooks-item`` sets).
2. A caller books through the AI agent (signed ``voice_answer``, ``retell_tools``,
   ``retell_webhook``); the call's completion (``call_completed``) queues ``quickbooks_sync``:
   the caller's Customer now, the Invoice at the appointment's end. The stack's delivery
   (the dispatcher, or Pub/Sub and Cloud Tasks on the emulators) runs it, and the Customer is
   read back from the company through the QBO API.
3. The appointment is completed the way the product knows it: its time is over (an invoice is
   made for a booked appointment once it has ended, ``shared.quickbooks.sync.sync_invoice``).
   A simulated day cannot wait for tomorrow, so it skips time for this one appointment: the
   scheduling service's own reschedule moves it, as of the day before, to the latest weekday
   slot already over (slot lock and label stay consistent), and the invoice task is delivered
   now, as Cloud Tasks would at its time (its own task name: the one queued for the original
   end stays queued, and finds the invoice made when it runs). The Invoice is read back from
   the company.

:func:`crm_receives_a_call`: the business adds a CRM webhook endpoint
(``scripts/ops crm endpoints add``'s service) pointing at the CRM receiver the stack mounts
(``/_sandbox/crm``; development allows its http loopback URL) and pastes the signing secret
into its CRM (the receiver's ``_control/hooks``); a caller's question to the AI receptionist
ends the call, ``call_completed`` fans ``call.completed`` out, ``crm_push`` delivers it signed
(Standard Webhooks), and the receiver's log says it verified the signature.

Every wait is bounded and says what did not happen on timeout.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable
from urllib.parse import urlsplit

Out = Callable[[str], None]

QBO_CALLER = "+17205550146"
QBO_CALLER_NAME = "James Carter"
SERVICE_RATE = 149.0  # the demo's service call, billed as the company's "Services" item
CRM_CALLER = "+17205550147"
CRM_HOOK = "sunrise-crm"
CRM_EVENTS = ("call.completed", "appointment.booked", "voicemail.left")
WAIT_SECONDS = 30.0


def _wait(done: Callable[[], Any], dispatcher: Any, timeout: float = WAIT_SECONDS) -> Any:
    """``done()``'s first truthy answer, letting the local dispatcher deliver meanwhile (on the
    emulators Pub/Sub and Cloud Tasks deliver by themselves); None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if dispatcher is not None:
            dispatcher.drain(timeout=1.0)
        result = done()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def _ai_call(stack, ports, dispatcher, tenant, caller: str, out: Out, *,
             converse: Callable[[Callable[..., dict]], list[dict]], summary: str, seconds: int) -> str | None:
    """One recorded call answered by the AI agent, played as Twilio and Retell play it:
    ``converse(use)`` makes the agent's tool calls (``use(name, **args)``) and returns the
    transcript. Returns the CallSid once the post-call work ran (the recording copied from a
    loopback host, the call facts written), or None (the call did not reach the agent)."""
    from shared.tenants import TenantScope
    from tools.sandboxes.audio import AudioHost, silent_wav
    from tools.scenarios_ai import (_call_started, _reach_the_agent, _retell_call, _status, _tools,
                                     _wait_for_post_call, ringing)

    params = ringing(ports.settings, caller, tenant.numbers[0])
    call_id = _reach_the_agent(stack, tenant, params, out)
    if call_id is None:
        return None
    call = _retell_call(ports.settings, call_id)
    started_ms = _call_started(stack, params, call)
    use = _tools(stack, call, out)

    transcript = converse(use)
    with AudioHost() as host:
        host.add(call_id, silent_wav(2.0))
        final = {**call, "call_status": "ended", "start_timestamp": started_ms,
                 "end_timestamp": started_ms + seconds * 1000, "duration_ms": seconds * 1000,
                 "disconnection_reason": "user_hangup", "recording_url": host.url_for(call_id),
                 "transcript": "\n".join(f"{u['role'].capitalize()}: {u['content']}" for u in transcript),
                 "transcript_object": [{**u, "words": []} for u in transcript]}
        stack.retell("retell_webhook", {"event": "call_ended", "call": final})
        _status(stack, params, "completed", duration=seconds)
        analysis = {"call_summary": summary, "user_sentiment": "Positive", "call_successful": True,
                    "in_voicemail": False}
        stack.retell("retell_webhook", {"event": "call_analyzed", "call": {**final, "call_analysis": analysis}})
        record = _wait_for_post_call(ports, dispatcher, TenantScope(ports.store(), tenant.id), params["CallSid"],
                                     timeout=WAIT_SECONDS)
    if not record.get("recordings"):
        out("  the call's recording was NOT stored (is the task queue delivering?)")
    return params["CallSid"]


def _connect_quickbooks(base_url: str, ports, tenant, out: Out) -> dict[str, Any] | None:
    """The consent played against the Intuit sandbox, the redirect followed to oauth_callback;
    the live connection, or None (said why)."""
    import requests

    from shared.integrations import connections
    from shared.quickbooks import connect

    url = connect.start(ports, tenant_id=tenant.id, user_id=None, binding=connections.operator_binding())
    consent = requests.get(url, allow_redirects=False, timeout=10)
    if consent.status_code != 302:
        out(f"  Intuit's consent page answered {consent.status_code}: not connected")
        return None
    query = urlsplit(consent.headers["Location"]).query
    done = requests.get(f"{base_url.rstrip('/')}/oauth_callback?{query}", timeout=20)
    out(f"  oauth_callback: HTTP {done.status_code} ({'connected' if done.ok else done.text[:120]})")
    if not done.ok:
        return None
    return connections.get(ports, tenant.id, connect.PROVIDER)


def _past_slot(scope, tenant, now: dt.datetime):
    """The latest slot of the most recent day the business books that is over: ``(as_of, slot)``,
    ``as_of`` the day before it (when that slot was on offer), or None."""
    from shared.scheduling import appointments as A

    today = now.astimezone(tenant.zone).date()
    for back in range(1, 15):
        day = today - dt.timedelta(days=back)
        as_of = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(0), tenant.zone).astimezone(dt.timezone.utc)
        slots = A.open_slots(scope, tenant, as_of, on=day)
        if slots:
            return as_of, slots[-1]
    return None


def quickbooks_customer_and_invoice(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    from shared.quickbooks import connect
    from shared.quickbooks.sync import INVOICES
    from shared.quickbooks.tasks import SyncRequest, queue
    from shared.scheduling import appointments as A
    from shared.tenants import TenantScope
    from shared.voice.contacts import lookup_contact
    from tools.scenarios_ai import _Stack

    stack = _Stack(base_url, ports.settings)
    scope = TenantScope(ports.store(), tenant.id)
    out("")
    out("• The business connects QuickBooks; a booked caller becomes a Customer, the finished job an Invoice")
    connection = _connect_quickbooks(base_url, ports, tenant, out)
    if connection is None:
        return
    out(f"  connected QuickBooks company {connection.get('account_id')}")
    items = connect.call(ports, tenant.id, lambda api: api.query("select * from Item where Name = 'Services'"))
    if not items:
        out("  the company has no 'Services' item: nothing to invoice with")
        return
    item = items[0]
    connect.set_item(ports, tenant.id, item_id=item["Id"], rate=SERVICE_RATE, actor_user_id=None)
    out(f"  invoices bill item {item['Name']} (id {item['Id']}) at ${SERVICE_RATE:.2f}")

    booked: dict[str, Any] = {}

    def converse(use: Callable[..., dict]) -> list[dict]:
        offered = use("check_availability").get("slots") or []
        if offered:
            booked.update(use("book_appointment", start=offered[-1]["start"], name=QBO_CALLER_NAME,
                              reason="Kitchen sink drain clogged").get("appointment") or {})
        return [{"role": "agent", "content": f"Thanks for calling {tenant.name}. How can I help?"},
                {"role": "user", "content": "My kitchen sink is clogged. Can someone come by?"},
                {"role": "agent", "content": f"Yes: {booked.get('label', 'no time is open')}. Does that work?"},
                {"role": "user", "content": "Perfect, thanks."}]

    call_sid = _ai_call(stack, ports, dispatcher, tenant, QBO_CALLER, out, converse=converse, seconds=64,
                        summary=f"{QBO_CALLER_NAME} booked a visit for a clogged kitchen sink.")
    if call_sid is None:
        return
    if not booked.get("id"):
        out("  nothing was booked: no customer or invoice to show")
        return
    customer_id = _wait(lambda: ((lookup_contact(scope, QBO_CALLER) or {}).get("quickbooks") or {}).get("customer_id"),
                        dispatcher)
    if not customer_id:
        out(f"  quickbooks_sync: the Customer was NOT synced within {WAIT_SECONDS:.0f} s "
            "(did call_completed run and the task queue deliver?)")
        return
    customer = connect.call(ports, tenant.id, lambda api: api.request("GET", f"customer/{customer_id}")["Customer"])
    phone = (customer.get("PrimaryPhone") or {}).get("FreeFormNumber") or ""
    out(f"  quickbooks_sync: QuickBooks Customer {customer['DisplayName']!r}, QBO id {customer['Id']}"
        + (f", phone ending {phone[-4:]}" if phone else ", no phone"))

    found = _past_slot(scope, tenant, ports.clock().now())
    if found is None:
        out("  no past slot to move the appointment to: no invoice to show")
        return
    as_of, slot = found
    moved = A.reschedule(scope, tenant, as_of, booked["id"], start=slot.start)
    if moved.status != "booked" or moved.appointment is None:
        out(f"  the appointment could not be moved into the past ({moved.status}): no invoice to show")
        return
    out(f"  (simulated time) the job is done: the appointment is now {moved.appointment.label}, which is over")
    queue(ports, SyncRequest(tenant_id=tenant.id, kind="invoice", appointment_id=booked["id"]),
          key=f"{booked['id']}:simulated-end")
    done = _wait(lambda: scope.get(f"{INVOICES}/{booked['id']}"), dispatcher)
    if not done:
        out(f"  quickbooks_sync: the Invoice was NOT made within {WAIT_SECONDS:.0f} s")
        return
    invoice = connect.call(ports, tenant.id, lambda api: api.request("GET", f"invoice/{done['invoice_id']}")["Invoice"])
    line = (invoice.get("Line") or [{}])[0]
    detail = line.get("SalesItemLineDetail") or {}
    out(f"  quickbooks_sync: QuickBooks Invoice {invoice['Id']} (no. {invoice.get('DocNumber')}) for customer "
        f"{invoice['CustomerRef']['value']}: ${float(invoice['TotalAmt']):.2f}, 1 line: {line.get('Description')!r}, "
        f"item {detail.get('ItemRef', {}).get('value')} x {detail.get('Qty')} at ${float(detail.get('UnitPrice', 0)):.2f}")


def _receiver(base_url: str, method: str, path: str, **body: Any) -> dict[str, Any]:
    import requests

    reply = requests.request(method, f"{base_url.rstrip('/')}/_sandbox/crm/_control/{path}", json=body or None,
                             timeout=10)
    reply.raise_for_status()
    return reply.json()


def crm_receives_a_call(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    from shared.crm import setup
    from shared.crm.fanout import DELIVERIES
    from shared.tenants import TenantScope
    from tools.scenarios_ai import _Stack

    stack = _Stack(base_url, ports.settings)
    scope = TenantScope(ports.store(), tenant.id)
    out("")
    out("• The business adds a CRM webhook; a call reaches its CRM, signed")
    url = f"{base_url.rstrip('/')}/_sandbox/crm/hooks/{CRM_HOOK}"
    endpoint, secret = setup.add_endpoint(ports, tenant.id, url=url, events=CRM_EVENTS,
                                          description="Sunrise's CRM (the stack's CRM receiver)")
    _receiver(base_url, "POST", "hooks", name=CRM_HOOK, secret=secret)
    out(f"  CRM endpoint {endpoint.id} for {', '.join(endpoint.events)}; its signing secret is pasted into the CRM")

    def converse(use: Callable[..., dict]) -> list[dict]:
        use("lookup_caller")
        return [{"role": "agent", "content": f"Thanks for calling {tenant.name}. How can I help?"},
                {"role": "user", "content": "Do you service tankless heaters? I'll call back to book."},
                {"role": "agent", "content": "We do. Call us any time to book a visit."}]

    call_sid = _ai_call(stack, ports, dispatcher, tenant, CRM_CALLER, out, converse=converse, seconds=38,
                        summary="The caller asked whether tankless heaters are serviced.")
    if call_sid is None:
        return

    def delivered() -> list[dict[str, Any]]:
        docs = scope.query(scope.collection(DELIVERIES).where("endpoint_id", "==", endpoint.id))
        return [d.data for d in docs if d.data.get("event_type") == "call.completed" and d.data.get("status") == "delivered"]

    deliveries = _wait(delivered, dispatcher)
    if not deliveries:
        out(f"  crm_push: call.completed was NOT delivered within {WAIT_SECONDS:.0f} s")
        return
    record = deliveries[0]
    out(f"  crm_push: call.completed delivered to {endpoint.id}: HTTP {record.get('last_status_code')}, "
        f"attempt {record.get('attempts')}")
    log = _receiver(base_url, "GET", f"hooks/{CRM_HOOK}")
    got = [r for r in log["received"] if r["webhook_id"] == record["webhook_id"]]
    if not got:
        out(f"  the CRM receiver has NO delivery {record['webhook_id']} in its log")
        return
    out(f"  the CRM receiver got {got[0]['type']} (webhook-id {got[0]['webhook_id'][:16]}...): signature "
        f"{'valid' if got[0]['verified'] else 'INVALID'}; {log['rejected']} rejected")


ALL = [quickbooks_customer_and_invoice, crm_receives_a_call]
