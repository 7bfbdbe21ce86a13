"""``scripts/bench calendar``: ``check_availability`` p50 with the business's Google Calendar
connected against without, in the same run. Prints; asserts nothing.

Same method as ``tools/bench_retell.py``: functions-framework's test client of ``retell_tools`` on
the embedded backend, signed bodies prepared before the timing, log level WARNING. Two
businesses with the same hours, one connected to the loopback Google sandbox (real
google-auth-oauthlib / google-auth clients, HTTP on loopback), requests interleaved:

* **not connected**: one document read more than before (the "is it connected?" check);
* **connected, cached**: the free/busy fetched in the last 30 s (the usual case: several checks
  in one call);
* **connected, asks Google**: the cache emptied before each request (outside the timing), so
  each check decrypts the token and calls freeBusy on loopback -- add Google's own latency;
* **Google slow** (the sandbox waits 3 s): a few requests, answered at the 1.5 s budget from our
  own bookings.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from tools.bench import out, pct

ROUNDS = 200
WARMUP = 20
SLOW_ROUNDS = 5
PLAIN, LINKED = ("t_bench_plain", "+13035550191"), ("t_bench_cal", "+13035550192")


def _body(settings, tenant: tuple[str, str], i: int) -> tuple[bytes, str]:
    from retell.lib.webhook_auth import symmetric

    call = {"call_id": f"bench_cal_{tenant[0]}_{i // 10}", "from_number": "+17205550142", "to_number": tenant[1],
            "metadata": {"tenant_id": tenant[0], "call_sid": f"CA{(i // 10):030x}{tenant[1][-2:]}"}}
    raw = json.dumps({"name": "check_availability", "args": {}, "call": call})
    return raw.encode(), symmetric["sign"](raw, settings.secret("retell_api_key"))


def bench() -> None:
    import logging

    from shared import runtime, tenants
    from shared.calendar import connect
    from shared.config import Settings
    from shared.integrations import callback, connections
    from shared.ports import Query
    from shared.runtime import Ports
    from tools.sandboxes.google import GoogleSandbox
    from tools.wsgi import function_app

    out("== calendar: check_availability with Google Calendar connected against without ==")
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, GoogleSandbox.from_settings(Settings(Z3_BACKEND="local")) as google:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp), PUBLIC_BASE_URL="https://z3.bench",
                            GOOGLE_OAUTH_AUTH_URL=f"{google.url}/o/oauth2/auth",
                            GOOGLE_OAUTH_TOKEN_URL=f"{google.url}/token",
                            GOOGLE_OAUTH_REVOKE_URL=f"{google.url}/revoke",
                            GOOGLE_CALENDAR_API_URL=f"{google.url}/calendar/v3")
        ports = runtime.use(Ports(settings))
        try:
            store = ports.store()
            for tenant_id, number in (PLAIN, LINKED):
                tenants.create_tenant(store, tenant_id=tenant_id, name="Bench Plumbing", contact_name="Bench Owner",
                                      contact_email=f"owner@{tenant_id.replace('_', '-')}.example", time_zone="America/Denver",
                                      numbers=[number])
            url = connect.start(ports, tenant_id=LINKED[0], user_id=None, binding=connections.operator_binding())
            callback.complete(ports, google.approve(url, email="owner@bench.example"), session_id=None)
            now = ports.clock().now()
            for day in range(7):  # a calendar with something every day
                start = now.replace(hour=17, minute=0, second=0, microsecond=0) + dt.timedelta(days=day)
                google.add_event("owner@bench.example", start, start + dt.timedelta(hours=1))
            tools = function_app("retell_tools").test_client()
            logging.getLogger().setLevel(logging.WARNING)
            count = ROUNDS + WARMUP
            plans = {"not connected": [_body(settings, PLAIN, i) for i in range(count)],
                     "connected, cached": [_body(settings, LINKED, i) for i in range(count)],
                     "connected, asks Google": [_body(settings, LINKED, count + i) for i in range(count)]}
            cache = Query(f"tenants/{LINKED[0]}/calendar_busy")

            def post(raw: bytes, signature: str) -> float:
                t0 = time.perf_counter()
                r = tools.post("/", data=raw, headers={"Content-Type": "application/json",
                                                       "x-retell-signature": signature})
                took = time.perf_counter() - t0
                if r.status_code != 200 or "error" in (r.get_json(silent=True) or {}):
                    raise RuntimeError(f"bench request failed: {r.status_code} {r.get_data(as_text=True)[:200]}")
                return took

            for i in range(count):
                for name, plan in plans.items():
                    if name == "connected, asks Google":
                        for doc in store.query(cache):
                            store.delete(doc.path)
                    took = post(*plan[i])
                    if i >= WARMUP:
                        results.setdefault(name, []).append(took)
            google.delay = 3.0
            for i in range(SLOW_ROUNDS):
                for doc in store.query(cache):
                    store.delete(doc.path)
                results.setdefault("Google slow (3 s): fallback", []).append(
                    post(*_body(settings, LINKED, 3 * count + 10 * i)))
            google.delay = 0.0
            time.sleep(3.5)  # let the late fetches land before the sandbox stops
        finally:
            runtime.reset()
            ports.close()
    out(f"-- warm latency, {ROUNDS} requests each after {WARMUP} warm-up, interleaved ({SLOW_ROUNDS} slow) --")
    out(f"{'check_availability':<34} {'p50 ms':>8} {'p99 ms':>8}")
    for name, samples in results.items():
        out(f"{name:<34} {pct(samples, 0.5):>8.2f} {pct(samples, 0.99):>8.2f}")


if __name__ == "__main__":
    bench()
