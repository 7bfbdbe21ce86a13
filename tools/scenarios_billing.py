"""Billing in the simulated day, and the card numbers callers say or type.

* :func:`caller_reads_a_card_number` -- a caller reaches the AI receptionist and reads a card
  number aloud (in words and in digits); Retell's events carry it in the transcript, the summary
  and the extracted data. What we store holds its last four digits only.
* :func:`text_with_a_card_number` -- someone texts a card number to the business; the stored
  message (and the forwarded-text email) holds the last four only.
* :func:`billing_story` -- the demo owner subscribes through ``POST /app/api/v1/billing/checkout``
  (a personal API token made for the day) and pays on the Stripe sandbox's "hosted" Checkout
  (``/_sandbox/stripe/_control/...``, what a customer does on Stripe's pages); the renewal
  payment fails, the owner is emailed (dunning), the card is updated in the "portal", the
  invoice is paid. Stripe's signed events reach ``stripe_events`` from the sandbox itself
  (as Stripe posts them); the scenario waits on our billing record and narrates it.

Listed in ``tools.simulate.scenarios()`` (:data:`ALL`), before the day's emails are listed.
"""

from __future__ import annotations

import time
from typing import Any, Callable

Out = Callable[[str], None]

CARD_CALLER = "+17205550188"
CARD_TEXTER = "+17205550189"
SPOKEN_CARD = "four two four two four two four two four two four two four two four two"
TYPED_CARD = "4111 1111 1111 1111"


def _wait(done: Callable[[], Any], dispatcher: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if dispatcher is not None:
            dispatcher.drain(timeout=1.0)
        result = done()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def caller_reads_a_card_number(base_url: str, ports: Any, dispatcher: Any, tenant: Any, out: Out) -> None:
    from shared.tenants import TenantScope
    from tools.scenarios_ai import _call_started, _reach_the_agent, _retell_call, _Stack, _status, ringing

    settings = ports.settings
    stack = _Stack(base_url, settings)
    scope = TenantScope(ports.store(), tenant.id)
    out("")
    out("• A caller reads a card number aloud to the AI receptionist")
    params = ringing(settings, CARD_CALLER, tenant.numbers[0])
    call_sid = params["CallSid"]
    call_id = _reach_the_agent(stack, tenant, params, out)
    if call_id is None:
        return
    call = _retell_call(settings, call_id)
    started_ms = _call_started(stack, params, call)
    transcript = [
        {"role": "agent", "content": f"Thanks for calling {tenant.name}. How can I help?"},
        {"role": "user", "content": f"I want to pay my bill. My card is {SPOKEN_CARD}, expiry eight thirty."},
        {"role": "agent", "content": "I can't take card numbers on the phone; the office will send a payment link."},
        {"role": "user", "content": f"Oh, OK. It's {TYPED_CARD} if they need it. Bye."},
    ]
    final = {**call, "call_status": "ended", "start_timestamp": started_ms, "end_timestamp": started_ms + 41_000,
             "duration_ms": 41_000, "disconnection_reason": "user_hangup",
             "transcript": "\n".join(f"{u['role'].capitalize()}: {u['content']}" for u in transcript),
             "transcript_object": [{**u, "words": []} for u in transcript]}
    stack.retell("retell_webhook", {"event": "call_ended", "call": final})
    _status(stack, params, "completed", duration=41)
    analysis = {"call_summary": f"The caller wanted to pay a bill and read the card {TYPED_CARD}.",
                "user_sentiment": "Neutral", "call_successful": True, "in_voicemail": False,
                "custom_analysis_data": {"payment_card": TYPED_CARD}}
    stack.retell("retell_webhook", {"event": "call_analyzed", "call": {**final, "call_analysis": analysis}})
    record = _wait(lambda: scope.get(f"call_facts/{call_sid}") and scope.get(f"calls/{call_sid}"), dispatcher) or {}
    out(f"  stored transcript line: {(record.get('transcript') or [{}])[1:2]}")
    out(f"  stored summary: {record.get('summary')}")


def text_with_a_card_number(base_url: str, ports: Any, dispatcher: Any, tenant: Any, out: Out) -> None:
    from shared.tenants import TenantScope
    from tools.scenarios_sms import _post_text

    scope = TenantScope(ports.store(), tenant.id)
    out("")
    out("• Someone texts a card number to the business")
    status, sid = _post_text(base_url, ports.settings, CARD_TEXTER, tenant.numbers[0],
                             f"Please charge card {TYPED_CARD} exp 08/30 for the repair")
    stored = _wait(lambda: scope.get(f"messages/{sid}"), dispatcher, timeout=5.0) or {}
    out(f"  sms_inbound answered {status}; stored body: {stored.get('body')}")


def _control(base_url: str, action: str, **body: Any) -> dict[str, Any]:
    import requests

    reply = requests.post(f"{base_url}/_sandbox/stripe/_control/{action}", json=body, timeout=20)
    reply.raise_for_status()
    return reply.json()["result"]


def billing_story(base_url: str, ports: Any, dispatcher: Any, tenant: Any, out: Out) -> None:
    import requests

    from shared.accounts import tokens
    from shared.billing import notices
    from shared.billing.records import RECORD, read_record
    from shared.models.tenant import Role
    from shared.ports import Query
    from shared.tenants import TenantScope

    store, now = ports.store(), ports.clock().now()
    scope = TenantScope(store, tenant.id)
    out("")
    out("• Billing: the business subscribes, a renewal fails, the card is updated, the invoice is paid")
    if "stripe" not in (ports.settings.stripe_api_base or "") and "_sandbox" not in (ports.settings.stripe_api_base or ""):
        out("  (Stripe is the real service on this stack: skipped)")
        return
    owner = next(d for d in store.query(Query(f"tenants/{tenant.id}/users").where("role", "==", Role.owner.value)))
    _token, secret = tokens.create(store, now, ports.settings.secret("z3_api_token_pepper"), tenant_id=tenant.id,
                                   user_id=owner.id, name="simulated day", scope="write")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {secret}"
    reply = api.post(f"{base_url}/app/api/v1/billing/checkout", json={"plan": "starter"}, timeout=20)
    if reply.status_code != 200:
        out(f"  checkout: HTTP {reply.status_code} {reply.text[:200]}")
        return
    session = reply.json()
    out(f"  POST /app/api/v1/billing/checkout: the owner is sent to {session['url']}")
    sub = _control(base_url, "complete_checkout", session_id=session["id"], last4="4242", exp_month=8, exp_year=2030)
    record = _wait(lambda: (r := read_record(scope)).status in ("trialing", "active") and r, dispatcher)
    out(f"  paid on Stripe's Checkout page: {record.plan} plan, {record.status}, card {record.card.brand} "
        f"ending {record.card.last4}" if record else "  the subscription did NOT reach our record")
    failed = _control(base_url, "renew", subscription_id=sub["id"], fail=True)
    record = _wait(lambda: (r := read_record(scope)).status == "past_due" and r, dispatcher)
    out(f"  the renewal payment failed: status {record.status if record else 'NOT past_due'}")
    dunning = _wait(lambda: [d.data for d in scope.query(scope.collection("emails"))
                             if d.get("template") == "billing_notice" and ":failed:" in d.get("dedup_key", "")],
                    dispatcher)
    out(f"  owner emailed: {notices.SUBJECTS['payment_failed']} ({dunning[0].get('status')})" if dunning
        else "  owner emailed: NO dunning email")
    _control(base_url, "update_card", customer_id=sub["customer"], last4="1881", exp_month=11, exp_year=2031)
    record = _wait(lambda: (r := read_record(scope)).card and r.card.last4 == "1881" and r, dispatcher)
    out(f"  the owner updated the card in Stripe's portal: {'ending 1881' if record else 'NOT updated'}")
    _control(base_url, "pay_invoice", invoice_id=failed["id"])
    record = _wait(lambda: (r := read_record(scope)).status == "active" and r, dispatcher)
    invoices = {d.id: d.data for d in scope.query(scope.collection("invoices"))}
    out(f"  the invoice was paid: status {record.status if record else 'NOT active'}, "
        f"invoice {invoices.get(failed['id'], {}).get('status')}")
    overview = api.get(f"{base_url}/app/api/v1/billing", timeout=20).json()
    out(f"  GET /app/api/v1/billing: {overview['plan']['name']}, {overview['status']}, "
        f"{len(overview['invoices'])} invoices, card ending {(overview['card'] or {}).get('last4')}")
    assert store.get(scope.path(RECORD)) is not None


ALL = [caller_reads_a_card_number, text_with_a_card_number, billing_story]
