"""A loopback Stripe: the v1 API wire format for what Z3 OS uses, reached by the real ``stripe``
SDK through ``STRIPE_API_BASE``, and Stripe's **signed** webhook events.

API (form-encoded requests, JSON answers, Stripe's error envelope, ``Idempotency-Key`` honoured
on POSTs): customers (create, retrieve with ``expand[]``, update, delete), checkout sessions,
billing portal sessions, subscriptions and invoices (retrieve, list by customer), payment
methods and charges (retrieve), ``billing/meter_events`` (deduplicated on ``identifier``, as
Stripe does) and ``billing/meter_event_adjustments`` (cancel). Objects start from Stripe's own
examples (``data/stripe_fixtures.json``, from stripe/openapi, MIT licence) with our values on top.

What a customer does on Stripe's hosted pages, and what Stripe's clock does, are methods here
(and ``POST /_control/<action>`` for a running stack): :meth:`complete_checkout`,
:meth:`renew` (``fail=True``: the renewal payment fails), :meth:`update_card`,
:meth:`pay_invoice`, :meth:`cancel`, :meth:`update_subscription`. Each emits the events Stripe
emits, signed with ``STRIPE_WEBHOOK_SECRET`` by the SDK's own ``generate_signature_header``.
``webhooks="auto"`` posts them to ``PUBLIC_BASE_URL/stripe_events`` in a background thread
(retrying 5xx, as Stripe does); ``"manual"`` keeps them in :attr:`outbox` for a test to deliver
(:meth:`take_events`, optionally duplicated and shuffled).
"""

from __future__ import annotations

import copy
import json
import random
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Literal

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

FIXTURES = Path(__file__).parent / "data" / "stripe_fixtures.json"
_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def _fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text())["resources"]


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) as nested dicts and lists."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(raw_key)]
        node: Any = out
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt = None if last else parts[index + 1]
            default: Any = value if last else ([] if (nxt == "" or (nxt or "").isdigit()) else {})
            if isinstance(node, list):
                position = len(node) if part == "" else int(part)
                while len(node) <= position:
                    node.append(None)
                if last or node[position] is None:
                    node[position] = default if last else (node[position] or default)
                node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, default)
    return out


class StripeSandbox(Sandbox):
    name = "stripe"

    def __init__(self, *, webhook_secret: str, events_url: str | None = None,
                 webhooks: Literal["auto", "manual"] = "manual", clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.webhook_secret = webhook_secret
        self.events_url = events_url
        self.webhooks = webhooks
        self.clock = clock
        self.lock = threading.RLock()
        self.fixtures = _fixtures()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            kind: {} for kind in ("customer", "checkout.session", "billing_portal.session", "subscription", "invoice",
                                  "payment_method", "charge")}
        self.meter_events: dict[str, dict[str, Any]] = {}  # identifier -> event
        self.meter_event_posts = 0
        self.adjustments: list[dict[str, Any]] = []
        self.idempotent: dict[str, tuple[int, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.delivered: list[tuple[str, int]] = []
        self.down = False  # answer 500 to every API call (Stripe unavailable)
        self._sequence = 0

    @classmethod
    def from_settings(cls, settings: Any, webhooks: Literal["auto", "manual"] = "auto") -> "StripeSandbox":
        return cls(webhook_secret=settings.secret("stripe_webhook_secret") or "",
                   events_url=settings.function_url("stripe_events"), webhooks=webhooks)

    # --- objects ------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}_sbx{self._sequence:04d}{secrets.token_hex(6)}"

    def _new(self, kind: str, prefix: str, **values: Any) -> dict[str, Any]:
        obj = copy.deepcopy(self.fixtures[kind])
        obj.update(id=self._id(prefix), created=int(self.clock()), livemode=False, metadata={})
        obj.update(values)
        self.objects[kind][obj["id"]] = obj
        return obj

    def _now(self) -> int:
        return int(self.clock())

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.objects["customer"][customer_id]

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self.objects["subscription"][subscription_id]

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.objects["invoice"][invoice_id]

    def invoices_of(self, customer_id: str) -> list[dict[str, Any]]:
        return [i for i in self.objects["invoice"].values() if i["customer"] == customer_id]

    def _card(self, customer_id: str | None, last4: str, exp_month: int, exp_year: int, brand: str = "visa"):
        pm = self._new("payment_method", "pm", customer=customer_id, type="card")
        pm["card"].update(brand=brand, display_brand=brand, last4=last4, exp_month=exp_month, exp_year=exp_year,
                          fingerprint=secrets.token_hex(8))
        pm["billing_details"].update(email=None, phone=None, name="Dana Rivera",
                                     address={"line1": "1200 Larimer St", "line2": None, "city": "Denver",
                                              "state": "CO", "postal_code": "80202", "country": "US"})
        return pm

    def _subscription_for(self, customer: dict[str, Any], price: str, trial_days: int, meta: dict[str, str]):
        now = self._now()
        start, end = now, now + 30 * 86400
        status = "trialing" if trial_days else "active"
        sub = self._new("subscription", "sub", customer=customer["id"], status=status, cancel_at_period_end=False,
                        cancel_at=None, canceled_at=None, ended_at=None, pause_collection=None,
                        trial_start=now if trial_days else None, trial_end=now + trial_days * 86400 if trial_days else None,
                        default_payment_method=customer["invoice_settings"]["default_payment_method"],
                        metadata=dict(meta), latest_invoice=None, billing_cycle_anchor=now, start_date=now)
        item = sub["items"]["data"][0]
        item.update(id=self._id("si"), subscription=sub["id"], current_period_start=start, current_period_end=end,
                    quantity=1)
        item["price"].update(id=price, recurring={**item["price"]["recurring"], "interval": "month"})
        sub["items"]["data"] = [item]
        sub["items"]["url"] = f"/v1/subscription_items?subscription={sub['id']}"
        return sub

    def _invoice_for(self, sub: dict[str, Any], *, amount: int, paid: bool, reason: str) -> dict[str, Any]:
        item = sub["items"]["data"][0]
        now = self._now()
        number = f"Z3SBX-{len(self.objects['invoice']) + 1:04d}"
        inv = self._new("invoice", "in", customer=sub["customer"], subscription=sub["id"], number=number,
                        amount_due=amount, amount_paid=amount if paid else 0, amount_remaining=0 if paid else amount,
                        currency="usd", status="paid" if paid else "open", billing_reason=reason,
                        attempt_count=1, attempted=True, period_start=item["current_period_start"],
                        period_end=item["current_period_end"], total=amount, subtotal=amount,
                        hosted_invoice_url=f"https://invoice.stripe.com/i/acct_sbx/{number}",
                        invoice_pdf=f"https://pay.stripe.com/invoice/acct_sbx/{number}/pdf",
                        parent={"type": "subscription_details", "quote_details": None,
                                "subscription_details": {"metadata": {}, "subscription": sub["id"]}},
                        status_transitions={"finalized_at": now, "marked_uncollectible_at": None,
                                            "paid_at": now if paid else None, "voided_at": None})
        sub["latest_invoice"] = inv["id"]
        return inv

    # --- what customers and Stripe's clock do -----------------------------------------------------

    def complete_checkout(self, session_id: str, *, last4: str = "4242", exp_month: int = 8,
                          exp_year: int = 2030) -> dict[str, Any]:
        """The customer paid on the hosted Checkout page: card, subscription, first invoice."""
        with self.lock:
            session = self.objects["checkout.session"][session_id]
            customer = self.customer(session["customer"])
            pm = self._card(customer["id"], last4, exp_month, exp_year)
            customer["invoice_settings"]["default_payment_method"] = pm["id"]
            trial = int(session.get("_trial_days") or 0)
            sub = self._subscription_for(customer, session["_price"], trial, session.get("_subscription_metadata") or {})
            inv = self._invoice_for(sub, amount=0 if trial else session["_amount"], paid=True,
                                    reason="subscription_create")
            session.update(status="complete", payment_status="paid", subscription=sub["id"], invoice=inv["id"])
            self.emit("payment_method.attached", pm)
            self.emit("customer.subscription.created", sub)
            self.emit("invoice.finalized", inv)
            self.emit("invoice.paid", inv)
            self.emit("checkout.session.completed", session)
            return sub

    def renew(self, subscription_id: str, *, fail: bool = False, amount: int | None = None) -> dict[str, Any]:
        """The period ends: a new period and its invoice; ``fail``: the card is declined."""
        with self.lock:
            sub = self.subscription(subscription_id)
            item = sub["items"]["data"][0]
            length = item["current_period_end"] - item["current_period_start"]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_start"] + length
            if sub["status"] == "trialing":
                sub["trial_end"] = item["current_period_start"]
            previous = sub["status"]
            sub["status"] = "past_due" if fail else "active"
            inv = self._invoice_for(sub, amount=amount if amount is not None else 4900, paid=not fail,
                                    reason="subscription_cycle")
            self.emit("invoice.finalized", inv)
            if fail:
                inv["next_payment_attempt"] = self._now() + 3 * 86400
                self.emit("invoice.payment_failed", inv)
            else:
                self.emit("invoice.paid", inv)
            self.emit("customer.subscription.updated", sub, previous={"status": previous})
            return inv

    def require_action(self, invoice_id: str) -> None:
        """The bank asks for 3-D Secure on this invoice's payment."""
        with self.lock:
            self.emit("invoice.payment_action_required", self.invoice(invoice_id))

    def update_card(self, customer_id: str, *, last4: str, exp_month: int, exp_year: int) -> dict[str, Any]:
        """The customer changed card in the Customer Portal."""
        with self.lock:
            customer = self.customer(customer_id)
            pm = self._card(customer_id, last4, exp_month, exp_year)
            customer["invoice_settings"]["default_payment_method"] = pm["id"]
            for sub in self.objects["subscription"].values():
                if sub["customer"] == customer_id:
                    sub["default_payment_method"] = pm["id"]
            self.emit("payment_method.attached", pm)
            self.emit("customer.updated", customer)
            return pm

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """A retry (or the customer on the hosted invoice page) paid an open invoice."""
        with self.lock:
            inv = self.invoice(invoice_id)
            inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0,
                       attempt_count=inv["attempt_count"] + 1)
            inv["status_transitions"]["paid_at"] = self._now()
            self.emit("invoice.paid", inv)
            sub = self.subscription(inv["subscription"])
            if sub["status"] in ("past_due", "unpaid"):
                previous = sub["status"]
                sub["status"] = "active"
                self.emit("customer.subscription.updated", sub, previous={"status": previous})
            return inv

    def update_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            sub = self.subscription(subscription_id)
            previous = {k: sub.get(k) for k in changes}
            sub.update(changes)
            self.emit("customer.subscription.updated", sub, previous=previous)
            return sub

    def cancel(self, subscription_id: str) -> dict[str, Any]:
        with self.lock:
            sub = self.subscription(subscription_id)
            sub.update(status="canceled", canceled_at=self._now(), ended_at=self._now())
            self.emit("customer.subscription.deleted", sub)
            return sub

    # --- events -----------------------------------------------------------------------------------

    def emit(self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        event = copy.deepcopy(self.fixtures["event"])
        event.update(id=self._id("evt"), type=kind, created=self._now(), api_version="2026-10-28.endive",
                     pending_webhooks=1, request={"id": None, "idempotency_key": None},
                     data={"object": copy.deepcopy(obj), **({"previous_attributes": previous} if previous else {})})
        self.outbox.append(event)
        if self.webhooks == "auto":
            threading.Thread(target=self._deliver_later, args=(event,), daemon=True,
                             name=f"stripe-event-{event['id']}").start()
        return event

    def take_events(self, *, duplicate: bool = False, shuffle: random.Random | None = None) -> list[dict[str, Any]]:
        """The events emitted since the last call, for a test to deliver: each twice with
        ``duplicate``, in a random order with ``shuffle``."""
        with self.lock:
            events, self.outbox = self.outbox, []
        events = [e for e in events for _ in range(2 if duplicate else 1)]
        if shuffle is not None:
            shuffle.shuffle(events)
        return events

    def signed(self, event: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe posts for ``event``."""
        import stripe

        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, self.webhook_secret, timestamp=timestamp)
        return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8",
                               "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}

    def _deliver_later(self, event: dict[str, Any]) -> None:
        import requests

        time.sleep(0.05)
        if not self.events_url:
            return
        for attempt in range(6):
            body, headers = self.signed(event)  # a retry is signed anew, as Stripe does
            try:
                status = requests.post(self.events_url, data=body, headers=headers, timeout=10).status_code
            except requests.RequestException:
                status = 0
            self.delivered.append((event["id"], status))
            if 200 <= status < 300 or 400 <= status < 500:
                return
            time.sleep(0.5 * (attempt + 1))

    # --- the API ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/_control/"):
            return self._control(path.removeprefix("/_control/"), request)
        if self.down:
            status, body = self._error(500, "api_error", None, "sandbox is down")
            return self.json(body, status)
        params = parse_form(list(request.form.items(multi=True))) if request.method == "POST" else {}
        query = parse_form(list(request.args.items(multi=True)))
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            if request.method == "POST" and key and (path, key) in self.idempotent:
                status, body = self.idempotent[(path, key)]
                return self.json(body, status, headers={"Idempotent-Replayed": "true"})
            status, body = self._route(request.method, path, params, query)
            if request.method == "POST" and key and status < 500:
                self.idempotent[(path, key)] = (status, body)
        return self.json(body, status, headers={"Request-Id": self._id("req")})

    def _route(self, method: str, path: str, params: dict[str, Any], query: dict[str, Any]) -> tuple[int, Any]:
        parts = path.split("/")[2:]  # after /v1
        if not path.startswith("/v1/") or not parts:
            return self._missing("path")
        kinds = {"customers": "customer", "subscriptions": "subscription", "invoices": "invoice",
                 "payment_methods": "payment_method", "charges": "charge"}
        if parts == ["customers"] and method == "POST":
            return 200, self._new("customer", "cus", email=params.get("email"), name=params.get("name"),
                                  metadata=params.get("metadata") or {})
        if parts == ["checkout", "sessions"] and method == "POST":
            return self._create_checkout(params)
        if parts == ["billing_portal", "sessions"] and method == "POST":
            if params.get("customer") not in self.objects["customer"]:
                return self._missing("customer")
            return 200, self._new("billing_portal.session", "bps", customer=params["customer"],
                                  return_url=params.get("return_url"), configuration="bpc_sandbox",
                                  url=f"https://billing.stripe.com/p/session/test_{secrets.token_hex(12)}", flow=None)
        if parts == ["billing", "meter_events"] and method == "POST":
            return self._meter_event(params)
        if parts == ["billing", "meter_event_adjustments"] and method == "POST":
            self.adjustments.append(params)
            identifier = (params.get("cancel") or {}).get("identifier")
            self.meter_events.pop(identifier, None)
            return 200, {"object": "billing.meter_event_adjustment", "livemode": False, "status": "pending",
                         "event_name": params.get("event_name"), "type": "cancel", "cancel": {"identifier": identifier}}
        if len(parts) == 1 and parts[0] in kinds and method == "GET":
            kind = kinds[parts[0]]
            found = [o for o in self.objects[kind].values()
                     if not query.get("customer") or o.get("customer") == query["customer"]]
            found.sort(key=lambda o: o["created"], reverse=True)
            return 200, {"object": "list", "data": found[: int(query.get("limit") or 10)], "has_more": False,
                         "url": path}
        if len(parts) == 2 and parts[0] in kinds:
            kind = kinds[parts[0]]
            obj = self.objects[kind].get(parts[1])
            if obj is None:
                return self._missing(kind)
            if method == "DELETE" and kind == "customer":
                del self.objects[kind][parts[1]]
                return 200, {"id": parts[1], "object": "customer", "deleted": True}
            if method == "POST":
                obj.update({k: v for k, v in params.items() if k not in ("expand",)})
            return 200, self._expanded(obj, query.get("expand") or params.get("expand") or [])
        return self._missing("path")

    def _expanded(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        for path in expand:
            node, keys = out, path.split(".")
            for key in keys[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            last = keys[-1]
            if isinstance(node, dict) and isinstance(node.get(last), str):
                for kind in self.objects.values():
                    if node[last] in kind:
                        node[last] = copy.deepcopy(kind[node[last]])
                        break
        return out

    def _create_checkout(self, params: dict[str, Any]) -> tuple[int, Any]:
        customer = params.get("customer")
        if customer not in self.objects["customer"]:
            return self._missing("customer")
        items = params.get("line_items") or []
        if params.get("mode") != "subscription" or not items or not (items[0] or {}).get("price"):
            return self._error(400, "invalid_request_error", "parameter_missing", "line_items[0][price] is required")
        sub_data = params.get("subscription_data") or {}
        session = self._new("checkout.session", "cs_test", customer=customer, mode="subscription", status="open",
                            payment_status="unpaid", success_url=params.get("success_url"),
                            cancel_url=params.get("cancel_url"), client_reference_id=params.get("client_reference_id"),
                            metadata=params.get("metadata") or {}, subscription=None, invoice=None,
                            url=f"https://checkout.stripe.com/c/pay/cs_test_{secrets.token_hex(12)}")
        session["_price"] = items[0]["price"]
        session["_amount"] = 4900
        session["_trial_days"] = int(sub_data.get("trial_period_days") or 0)
        session["_subscription_metadata"] = sub_data.get("metadata") or {}
        return 200, {k: v for k, v in session.items() if not k.startswith("_")}

    def _meter_event(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.meter_event_posts += 1
        identifier = params.get("identifier") or self._id("mev")
        payload = params.get("payload") or {}
        if not params.get("event_name") or not payload.get("stripe_customer_id") or not payload.get("value"):
            return self._error(400, "invalid_request_error", "parameter_missing", "event_name and payload required")
        if identifier in self.meter_events:
            # Stripe refuses a second event with the same identifier (within its 24 h window).
            return self._error(400, "invalid_request_error", "meter_event_duplicate_identifier",
                               "an event with this identifier exists")
        event = {"object": "billing.meter_event", "created": self._now(), "event_name": params["event_name"],
                 "identifier": identifier, "livemode": False, "payload": payload,
                 "timestamp": int(params.get("timestamp") or self._now())}
        self.meter_events[identifier] = event
        return 200, event

    def _control(self, action: str, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        actions: dict[str, Callable[..., Any]] = {
            "complete_checkout": self.complete_checkout, "renew": self.renew, "update_card": self.update_card,
            "pay_invoice": self.pay_invoice, "cancel": self.cancel, "require_action": self.require_action}
        if action not in actions:
            return self.json({"error": "unknown action"}, 404)
        return self.json({"result": actions[action](**body)})

    def _missing(self, what: str) -> tuple[int, Any]:
        return self._error(404, "invalid_request_error", "resource_missing", f"No such {what}")

    @staticmethod
    def _error(status: int, kind: str, code: str | None, message: str) -> tuple[int, Any]:
        return status, {"error": {"type": kind, "code": code, "message": message}}

    def internal_error(self, request: Request) -> Response:
        return self.json({"error": {"type": "api_error", "message": "sandbox internal error"}}, status=500)
