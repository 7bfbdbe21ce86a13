"""``scripts/bench retell``: warm latency of the agent's custom functions (``retell_tools``), side
by side with the baseline function in the same run. Prints; asserts nothing.

Same method as ``tools/bench_voice.py``, so the figures compare: functions-framework's own test
clients on the embedded backend (temporary directory), the baseline from ``tools/bench_baseline``
(one document read, fixed TwiML) and each tool request interleaved so both see the same machine,
signatures made outside the timing, log level WARNING on both sides.

* ``book_appointment``: a new slot every request (tenant read, the booking transaction with its
  slot lock and overlap query, the action-log transaction);
* ``check_availability``: measured after the bookings, so it reads a half-full calendar holding
  every booking of the run (tenant read, the next week's appointments, action-log transaction).

Each Retell call carries 10 tool requests, then a new call starts: a realistic action log, not
one that grows to hundreds of entries.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from tools.bench import baseline_client, out, pct
from tools.wsgi import REPO

ROUNDS = 400
WARMUP = 40
TENANT = "t_bench_agent"
NUMBER = "+13035550190"




def _seed(ports) -> None:
    from shared import tenants
    from shared.scheduling.settings import SchedulingSettings, Window

    store = ports.store()
    tenants.create_tenant(store, tenant_id=TENANT, name="Bench Plumbing", contact_name="Bench Owner",
                          contact_email="owner@bench-agent.example", time_zone="America/Denver", numbers=[NUMBER])
    # A calendar with room for every booking of the run: weekdays 8 to 6, half-hour slots, three
    # months ahead (~1,300 slots); the run books every other one, so by the end the next two
    # months are half full.
    weekday = [Window(start="08:00", end="18:00")]
    scheduling = SchedulingSettings(windows={d: weekday for d in ("mon", "tue", "wed", "thu", "fri")},
                                    slot_minutes=30, lead_minutes=0, horizon_days=92)
    store.update(f"tenants/{TENANT}", {"settings.scheduling": scheduling.to_doc()})


def _requests(settings, name: str, args_of: Iterator[dict[str, Any]], count: int) -> list[tuple[bytes, str]]:
    """Signed ``retell_tools`` bodies, prepared before the timing."""
    from retell.lib.webhook_auth import symmetric

    key = settings.secret("retell_api_key")
    bodies = []
    for i in range(count):
        call = {"call_id": f"bench_{name}_{i // 10}", "from_number": "+17205550142", "to_number": NUMBER,
                "metadata": {"tenant_id": TENANT, "call_sid": f"CA{(i // 10):032x}"}}
        raw = json.dumps({"name": name, "args": next(args_of), "call": call})
        bodies.append((raw.encode(), symmetric["sign"](raw, key)))
    return bodies


def bench() -> None:
    import logging


    from shared import runtime
    from shared.config import Settings
    from shared.runtime import Ports
    from shared.scheduling.appointments import open_slots
    from shared.scheduling.slots import iso_local
    from shared.tenants import TenantScope
    from tools.wsgi import function_app

    out("== retell: the agent's custom functions (retell_tools) ==")
    baseline_source = REPO / "tools" / "bench_baseline" / "main.py"
    results: dict[str, list[float]] = {"baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp), PUBLIC_BASE_URL="https://z3.bench")
        ports = runtime.use(Ports(settings))
        try:
            _seed(ports)
            tools = function_app("retell_tools").test_client()
            baseline = baseline_client() if baseline_source.exists() else None
            scope = TenantScope(ports.store(), TENANT)
            tenant = scope.tenant()
            starts = [iso_local(s.start, tenant.zone) for s in open_slots(scope, tenant, ports.clock().now())][::2]
            count = ROUNDS + WARMUP
            if len(starts) < count:
                raise RuntimeError(f"the bench calendar has {len(starts)} slots, needs {count}")
            plans = {
                "book_appointment": _requests(settings, "book_appointment",
                                              iter({"start": s, "name": "Bench Caller"} for s in starts), count),
                "check_availability": _requests(settings, "check_availability", iter(lambda: {}, None), count),
            }
            logging.getLogger().setLevel(logging.WARNING)
            for name, plan in plans.items():
                for i, (raw, signature) in enumerate(plan):
                    t0 = time.perf_counter()
                    b = baseline.post("/", data={"To": NUMBER}) if baseline is not None else None
                    t1 = time.perf_counter()
                    r = tools.post("/", data=raw, headers={"Content-Type": "application/json",
                                                           "x-retell-signature": signature})
                    t2 = time.perf_counter()
                    answer = r.get_json(silent=True) or {}
                    if r.status_code != 200 or "error" in answer or (b is not None and b.status_code != 200):
                        raise RuntimeError(f"bench request failed: {name} {r.status_code} "
                                           f"{r.get_data(as_text=True)[:200]}")
                    if i >= WARMUP:
                        results.setdefault(name, []).append(t2 - t1)
                        if b is not None:
                            results["baseline"].append(t1 - t0)
        finally:
            runtime.reset()
            ports.close()
    out(f"-- warm latency, {ROUNDS} requests per tool after {WARMUP} warm-up, interleaved with the baseline --")
    out(f"{'function':<34} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
    if results["baseline"]:
        base50, base99 = pct(results["baseline"], 0.5), pct(results["baseline"], 0.99)
        out(f"{'baseline (1 read, TwiML)':<34} {base50:>8.2f} {base99:>8.2f} {1.0:>10.2f} {1.0:>10.2f}")
    else:
        base50 = base99 = 0.0
        out("baseline: tools/bench_baseline/main.py is missing: no ratios")
    for name, samples in results.items():
        if name == "baseline":
            continue
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        ratios = f"{p50 / base50:>10.2f} {p99 / base99:>10.2f}" if base50 else f"{'n/a':>10} {'n/a':>10}"
        out(f"{'retell_tools ' + name:<34} {p50:>8.2f} {p99:>8.2f} {ratios}")


if __name__ == "__main__":
    bench()
