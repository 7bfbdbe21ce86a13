"""The SMS promise as a property, shared by ``test_consent_property.py`` (embedded backend) and
``tests/contract/test_sms_consent_property.py`` (both backends): random sequences of inbound
texts (keywords, plain-word revocations, ordinary messages, Twilio retries), verbal consents,
send attempts and the clock moving, through the real send gate and the Twilio sandbox.

After every step:
* no text reaches Twilio for a number whose latest consent event (the model's, kept from the
  operations alone) is an opt-out or that never opted in -- except the one reply to a HELP, STOP
  or START text that number just sent;
* nothing but those replies goes out between 9 p.m. and 8 a.m. in the recipient's time zone;
* every keyword text gets exactly one reply; duplicates get none;
* the ledger's chain verifies and agrees with the model.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from hypothesis import strategies as st

from shared import consent
from shared.consent.keywords import classify
from shared.sms import send_sms
from shared.sms.inbound import InboundSms, receive
from shared.sms.timezones import allowed_at, recipient_zones
from tests.functions.sms.support import BUSINESS_NUMBER, inbound_params, message_sid

INBOUND_BODIES = ["STOP", "stop", "Stop.", "UNSUBSCRIBE", "cancel", "quit", "START", "yes", "UNSTOP", "HELP", "info",
                  "please stop texting me", "don't text me again", "Can you stop by tomorrow?", "don't stop",
                  "Thanks, see you Tuesday", "remove me from your list", ""]
_counter = itertools.count()
sent_counts = {"consented": 0, "replies": 0}

inbound = st.tuples(st.just("inbound"), st.integers(0, 2), st.sampled_from(INBOUND_BODIES),
                    st.sampled_from([None, None, None, "STOP", "START", "HELP"]))
verbal = st.tuples(st.just("verbal"), st.integers(0, 2), st.integers(0, 3))
attempt = st.tuples(st.just("send"), st.integers(0, 2), st.sampled_from(["follow_up", "notification", "reply"]))
replay = st.tuples(st.just("replay"), st.integers(0, 2))
tick = st.tuples(st.just("tick"), st.integers(1, 14 * 60))  # minutes
operations = st.lists(st.one_of(inbound, verbal, attempt, replay, tick), min_size=1, max_size=14)


def run_sequence(ports, business, twilio, clock, ops, business_number: str = BUSINESS_NUMBER) -> None:
    """Play ``ops`` and check the properties after every step (module docstring)."""
    run = next(_counter)
    # fresh callers per example (the business and the sandbox are shared across examples)
    numbers = [f"+1{code}555{1000 + run % 9000:04d}" for code in ("303", "212", "808")]
    model: dict[str, str] = {n: "never_asked" for n in numbers}
    received: dict[str, list[InboundSms]] = {n: [] for n in numbers}
    expected_replies: dict[str, int] = {n: 0 for n in numbers}
    compliance_ok: set[str] = set()  # message sids we may legitimately answer
    inbound_at: dict[str, tuple[str, dt.datetime]] = {}  # sid -> (sender, when it arrived)
    verbal_sources: set[tuple[str, str]] = set()
    clock.current = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc) + dt.timedelta(days=run)
    seen_sids: set[str] = set(twilio.messages)

    for op in ops:
        kind = op[0]
        number = numbers[op[1]] if kind != "tick" else None
        now = clock.now()
        if kind == "tick":
            clock.advance(minutes=op[1])
        elif kind == "verbal":
            call_id = f"call_{run}_{op[2]}"
            consent.record_sms_consent(business, number, call_id=call_id, disclosure="May we text you?", now=now)
            if (number, call_id) not in verbal_sources:  # a retried tool call is no new consent
                verbal_sources.add((number, call_id))
                model[number] = "opted_in"
        elif kind in ("inbound", "replay"):
            if kind == "replay":
                if not received[number]:
                    continue
                msg = received[number][-1]  # Twilio retrying the last webhook
            else:
                params = inbound_params(op[2], sender=number, to=business_number, sid=message_sid(),
                                        **({"OptOutType": op[3]} if op[3] else {}))
                msg = InboundSms.from_form(params)
                received[number].append(msg)
                inbound_at[msg.message_sid] = (number, now)
                intent = classify(msg.body, msg.opt_out_type)
                if intent is not None:
                    if intent.kind != "help":
                        model[number] = "opted_in" if intent.kind == "opt_in" else "opted_out"
                    if intent.source != "opt_out_type":
                        expected_replies[number] += 1
                        compliance_ok.add(msg.message_sid)
            receive(ports, msg)
        elif kind == "send":
            purpose = op[2]
            source = received[number][-1].message_sid if purpose == "reply" and received[number] else f"src_{uuid.uuid4().hex[:8]}"
            send_sms(ports, business, number, "A note about your appointment.", purpose=purpose, source=source, now=now)

        # --- the properties, after every step ---
        new = [m for sid, m in twilio.messages.items() if sid not in seen_sids]
        for message in new:
            seen_sids.add(message["sid"])
            to = message["to"]
            doc = business.get(f"messages/{message['sid']}")
            is_compliance_reply = doc.get("purpose") == "reply" and doc.get("source") in compliance_ok
            if not is_compliance_reply:
                assert model[to] == "opted_in", f"texted {to} in state {model[to]}"
                sender, arrived = inbound_at.get(doc.get("source"), (None, None))
                immediate_reply = (doc.get("purpose") == "reply" and sender == to
                                   and clock.now() - arrived <= dt.timedelta(hours=1))
                assert immediate_reply or allowed_at(clock.now(), recipient_zones(to, "America/Denver"))
                sent_counts["consented"] += 1
            else:
                sent_counts["replies"] += 1
        for n in numbers:
            report = consent.verify_chain(business, n)
            assert report.ok, report
            assert report.state.value == model[n]

    for n in numbers:
        replies = [m for m in twilio.sent_to(n)
                   if business.get(f"messages/{m['sid']}").get("source") in compliance_ok]
        assert len(replies) == expected_replies[n]
        for m in twilio.sent_to(n):
            assert m["from"] == business_number
