"""``scripts/bench sms``: texts, measured side by side in one run. Prints; asserts nothing.

1. Warm latency of ``sms_inbound`` against the baseline function (``tools/bench_baseline``: one
   document read, fixed TwiML -- the same baseline as the voice issue), both through
   functions-framework's own test client on the embedded backend, requests interleaved so both
   see the same machine. Three kinds of inbound text: an ordinary message (stored, forwarded to
   the business through the task queue), HELP (stored, help reply through the send gate: one
   real HTTP round trip to the Twilio sandbox) and STOP (consent event + stored message in one
   transaction, then the confirmation through the gate). Every request is a new message, signed
   like Twilio signs (signatures made outside the timing).
2. The send gate's overhead per message: ``send_sms`` (consent, quiet hours, reservation,
   records: two transactions) against the same text sent by a direct SDK call
   (``client.messages.create``) to the same Twilio sandbox; interleaved, medians and ratio.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tools.bench import baseline_client, out, paired, pct

WARMUP = 30
BUSINESS = "+13035550100"




def _signed(settings, body: str, sender: str) -> tuple[dict[str, str], str]:
    from twilio.request_validator import RequestValidator

    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": settings.twilio_account_sid, "From": sender,
              "To": BUSINESS, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
              "ApiVersion": "2010-04-01"}
    signature = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url("sms_inbound"), params)
    return params, signature


def bench(n: int = 300) -> None:
    import logging


    from shared import consent, runtime, tenants
    from shared.config import Settings
    from shared.providers import twilio as provider
    from shared.runtime import Ports
    from shared.sms import send_sms
    from shared.tenants import TenantScope
    from tools.sandboxes.twilio import TwilioSandbox
    from tools.wsgi import function_app

    out("== sms ==")
    logging.getLogger().setLevel(logging.WARNING)  # both sides alike; log lines would flood the output
    base = Settings(Z3_BACKEND="local")
    with tempfile.TemporaryDirectory() as tmp, TwilioSandbox.from_settings(base, callbacks="off") as sandbox:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp), PUBLIC_BASE_URL="https://z3.bench",
                            TWILIO_API_BASE_URL=sandbox.url)
        ports = runtime.use(Ports(settings))
        try:
            tenants.create_tenant(ports.store(), tenant_id="t_bench_sms", name="Bench Plumbing", contact_name="Bench",
                                  contact_email="bench-sms@example.com", time_zone="America/Denver", numbers=[BUSINESS])
            scope = TenantScope(ports.store(), "t_bench_sms")
            inbound = function_app("sms_inbound").test_client()
            baseline = baseline_client()

            # --- 1. warm latency -------------------------------------------------------------
            results: dict[str, list[float]] = {"baseline": []}
            kinds = {"ordinary text": "Can you come Tuesday?", "HELP (reply via gate)": "HELP",
                     "STOP (consent + reply)": "STOP"}
            for kind, body in kinds.items():
                requests = [_signed(settings, body, f"+1720555{1000 + i:04d}") for i in range(n + WARMUP)]
                base_samples, samples = [], []
                for i, (params, signature) in enumerate(requests):
                    base_s, fn_s = paired(baseline, inbound, "sms_inbound", params,
                                          {"X-Twilio-Signature": signature})
                    if i >= WARMUP:
                        base_samples.append(base_s)
                        samples.append(fn_s)
                results["baseline"].extend(base_samples)
                results[kind] = samples
            out(f"-- sms_inbound warm latency, {n} requests per kind after {WARMUP} warm-up, interleaved --")
            b50, b99 = pct(results["baseline"], 0.5), pct(results["baseline"], 0.99)
            out(f"{'function':<32} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
            out(f"{'baseline (1 read, TwiML)':<32} {b50:>8.2f} {b99:>8.2f} {1.0:>10.2f} {1.0:>10.2f}")
            for kind in kinds:
                p50, p99 = pct(results[kind], 0.5), pct(results[kind], 0.99)
                out(f"{'sms_inbound ' + kind:<32} {p50:>8.2f} {p99:>8.2f} {p50 / b50:>10.2f} {p99 / b99:>10.2f}")

            # --- 2. the gate's overhead per message -------------------------------------------
            client = provider.client(settings)
            now = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)  # 11:00 in Denver: inside the window
            numbers = [f"+1303555{2000 + i:04d}" for i in range(n + WARMUP)]
            for i, number in enumerate(numbers):
                consent.record_sms_consent(scope, number, call_id=f"call_{i}", disclosure="May we text you?", now=now)
            gate, direct = [], []
            for i, number in enumerate(numbers):
                t0 = time.perf_counter()
                result = send_sms(ports, scope, number, "Your plumber is on the way.", purpose="notification",
                                  source=f"bench_{i}", now=now)
                t1 = time.perf_counter()
                client.messages.create(to=number, from_=BUSINESS, body="Your plumber is on the way.",
                                       status_callback=settings.function_url("sms_status"))
                t2 = time.perf_counter()
                if not result.sent:
                    raise RuntimeError(f"bench send refused: {result.reason}")
                if i >= WARMUP:
                    gate.append(t1 - t0)
                    direct.append(t2 - t1)
            g50, d50 = statistics.median(gate) * 1000, statistics.median(direct) * 1000
            out(f"-- send gate overhead per message, {n} texts each, interleaved --")
            out(f"{'path':<34} {'p50 ms':>8} {'p99 ms':>8}")
            out(f"{'direct SDK call to the sandbox':<34} {d50:>8.2f} {pct(direct, 0.99):>8.2f}")
            out(f"{'send_sms (gate + SDK + records)':<34} {g50:>8.2f} {pct(gate, 0.99):>8.2f}")
            out(f"gate overhead: {g50 - d50:.2f} ms per message at the median (ratio {g50 / d50:.2f})")
        finally:
            runtime.reset()
            ports.close()


if __name__ == "__main__":
    bench(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
