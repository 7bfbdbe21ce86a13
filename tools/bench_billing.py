"""``scripts/bench billing``: warm latency of ``stripe_events`` on the local stack, side by side
with the baseline function (``tools/bench_baseline``: one document read) in the same run, the
same harness as ``tools/bench_voice.py`` (a): HTTP POSTs, one new connection each as Stripe's
webhooks arrive, to the server ``scripts/dev`` runs (every function and sandbox mounted), each
event next to a baseline request. Prints; asserts nothing. Goal (issue 13): p50 <= 2x the
baseline for the events that need no Stripe round trip.

Every request is a new event id (a first delivery: signature, dedup claim, apply, done mark),
signed with the Stripe SDK's helper outside the timing, for the demo customer the bench
subscribes through the Stripe sandbox first. Measured separately:

* no round trip: ``invoice.upcoming`` (card-expiry check from our record),
  ``charge.dispute.created`` (applied from the event's own body);
* re-fetching (one HTTP round trip to the Stripe sandbox, as to Stripe): ``customer.subscription.updated``
  (the subscription, card expanded) and ``invoice.paid`` (the invoice, then its subscription).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from tools.bench import http_post, out, pct
from tools.wsgi import REPO

ROUNDS = 300
WARMUP = 30
TENANT = "t_bench_billing"


def bench() -> None:
    import logging
    import os
    from urllib.parse import urlsplit

    import functions_framework
    import requests
    import stripe

    from shared import runtime
    from shared.billing import services
    from shared.config import get_settings, reset_settings
    from shared.runtime import Ports
    from shared.tenants import create_tenant
    from tools.devstack import build_app
    from tools.stack_env import configure_environment
    from tools.wsgi import ServerThread

    out("== billing: Stripe's events (stripe_events) on the local stack ==")
    saved = dict(os.environ)
    baseline_app = functions_framework.create_app(
        target="baseline", source=str(REPO / "tools" / "bench_baseline" / "main.py"))
    app, _names = build_app(extra={"_bench/baseline": baseline_app})
    results: dict[str, list[float]] = {"baseline": []}
    with tempfile.TemporaryDirectory() as tmp, ServerThread(app) as server:
        configure_environment(server.url, Path(tmp))
        settings = get_settings()
        ports = runtime.use(Ports(settings))
        host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
        secret = settings.secret("stripe_webhook_secret")

        def post(path: str, body: bytes, headers: dict[str, str]) -> float:
            return http_post(host, port, path, body, headers)

        try:
            create_tenant(ports.store(), tenant_id=TENANT, name="Bench Billing", contact_name="Bench Owner",
                          contact_email="owner@bench-billing.example", time_zone="America/Denver", numbers=[])
            session = services.create_checkout_session(ports, TENANT, "starter")
            reply = requests.post(f"{server.url}/_sandbox/stripe/_control/complete_checkout",
                                  json={"session_id": session["id"]}, timeout=20)
            reply.raise_for_status()
            sub = reply.json()["result"]
            customer, subscription, invoice = sub["customer"], sub["id"], sub["latest_invoice"]
            time.sleep(1.0)  # the checkout's own events reach stripe_events first
            objects = {
                "invoice.upcoming": {"object": "invoice", "customer": customer, "subscription": subscription},
                "charge.dispute.created": {"object": "dispute", "id": "dp_bench", "charge": "ch_bench",
                                           "customer": customer, "amount": 4900, "reason": "fraudulent"},
                "customer.subscription.updated": {"object": "subscription", "id": subscription, "customer": customer},
                "invoice.paid": {"object": "invoice", "id": invoice, "customer": customer},
            }
            logging.getLogger().setLevel(logging.WARNING)
            for kind, obj in objects.items():
                for i in range(ROUNDS + WARMUP):
                    body = json.dumps({"id": f"evt_bench_{kind.replace('.', '_')}_{i}", "object": "event",
                                       "type": kind, "created": int(time.time()), "api_version": "2026-10-28.endive",
                                       "data": {"object": obj}}).encode()
                    headers = {"Content-Type": "application/json", "Stripe-Signature":
                               stripe.WebhookSignature.generate_signature_header(body.decode(), secret)}
                    base_s = post("/_bench/baseline", b"To=%2B13035550100",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
                    event_s = post("/stripe_events", body, headers)
                    if i >= WARMUP:
                        results["baseline"].append(base_s)
                        results.setdefault(kind, []).append(event_s)
        finally:
            runtime.reset()
            ports.close()
            os.environ.clear()
            os.environ.update(saved)
            reset_settings()
    base50, base99 = pct(results["baseline"], 0.5), pct(results["baseline"], 0.99)
    out(f"-- warm latency on the local stack (HTTP), {ROUNDS} events per type after {WARMUP} warm-up, "
        "interleaved with the baseline --")
    out(f"{'function':<58} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
    out(f"{'baseline (1 read)':<58} {base50:>8.2f} {base99:>8.2f} {1.0:>10.2f} {1.0:>10.2f}")
    for kind, samples in results.items():
        if kind == "baseline":
            continue
        label = f"stripe_events {kind} ({'re-fetches' if kind in ('customer.subscription.updated', 'invoice.paid') else 'no round trip'})"
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        out(f"{label:<58} {p50:>8.2f} {p99:>8.2f} {p50 / base50:>10.2f} {p99 / base99:>10.2f}")
    out("(goal: p50 ratio <= 2 for the events that need no Stripe round trip; the re-fetching ones include "
        "a real HTTP round trip to the Stripe sandbox)")


if __name__ == "__main__":
    bench()
