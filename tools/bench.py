"""``scripts/bench``: performance, measured side by side in one run, printed as medians and ratios.

Sections (``scripts/bench ports voice sms retell cold``; default: those five):

* ports: the DocumentStore on both backends (SQLite vs the Firestore emulator): N single
  writes, a batched write of N, N point reads, and indexed queries — medians of several rounds,
  with the embedded backend as the baseline. Also the emulators' start-up time.
* voice / sms / retell / billing (by name): warm latency of the webhook functions against a baseline function (one
  document read, fixed TwiML) and cold import times (each capability's ``tools/bench_*.py``).
* app: the dashboard's calls list at 1,000 vs 100,000 calls (``tools/bench_app.py``).
* cold: per function, process start to its first answer in a fresh interpreter, beside a cold
  baseline (``tools/bench_cold.py``).
* retention (only by name): the retention sweep against raw batch deletes of the same store,
  and the export's peak memory (``tools/bench_retention.py``).
* voice-parts (only by name): a diagnostic of where ``voice_answer``'s in-process time goes,
  each part replaced by a no-op in turn.

Nothing here asserts: it prints. The goals live in the issues and the closing notes.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pct(samples: list[float], q: float) -> float:
    """The ``q`` quantile of samples in seconds, in milliseconds."""
    return percentile(samples, q) * 1000


def http_post(host: str, port: int, path: str, body: bytes | str, headers: dict[str, str]) -> float:
    """One POST on a new connection (as a provider's webhook arrives); seconds. Raises unless 200."""
    import http.client

    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    answer = response.read()
    conn.close()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"bench request to {path} failed: {response.status} {answer[:200]!r}")
    return elapsed


def baseline_client():
    """The baseline every capability is measured against (``tools/bench_baseline``: one document
    read, fixed TwiML), served by functions-framework's own app like the functions are."""
    import functions_framework

    from tools.wsgi import REPO

    return functions_framework.create_app(
        target="baseline", source=str(REPO / "tools" / "bench_baseline" / "main.py")).test_client()


def paired(baseline, subject, name: str, params: dict[str, str], headers: dict[str, str]) -> tuple[float, float]:
    """One baseline request, then one to the function under test, back to back so both see the
    same machine; returns both durations in seconds. A non-200 on either side stops the bench."""
    t0 = time.perf_counter()
    r = baseline.post("/", data=params)
    t1 = time.perf_counter()
    a = subject.post("/", data=params, headers=headers)
    t2 = time.perf_counter()
    if r.status_code != 200 or a.status_code != 200:
        raise RuntimeError(f"bench request failed: baseline {r.status_code}, {name} {a.status_code}")
    return t1 - t0, t2 - t1


def _workload(store, n: int, prefix: str) -> dict[str, Callable[[], object]]:
    from shared.ports import Query

    def writes() -> None:
        for i in range(n):
            store.set(f"{prefix}/calls/c{i:05d}", {"n": i, "status": "done" if i % 3 else "missed", "tags": ["a"]})

    def batched() -> None:
        for start in range(0, n, 500):
            batch = store.batch()
            for i in range(start, min(n, start + 500)):
                batch.set(f"{prefix}/msgs/m{i:05d}", {"n": i})
            batch.commit()

    def reads() -> None:
        for i in range(n):
            store.get(f"{prefix}/calls/c{i:05d}")

    def queries() -> None:
        q = Query(f"{prefix}/calls")
        for i in range(50):
            store.query(q.where("status", "==", "missed").where("n", ">=", i * 10).order_by("n").page(20))

    return {"write x%d" % n: writes, "batch write x%d" % n: batched, "read x%d" % n: reads, "query x50": queries}


def bench_ports(n: int = 1000, rounds: int = 3) -> None:
    from shared.config import Settings
    from shared.runtime import Ports

    out(f"== ports: DocumentStore, {n} documents, median of {rounds} rounds ==")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp)))
        results["local"] = {}
        for r in range(rounds):
            for name, fn in _workload(local.store(), n, f"tenants/bench{r}").items():
                results["local"].setdefault(name, []).append(timed(fn, 1)[0])
        local.close()

    from tools.emulators import Emulators, gcloud_available

    ok, reason = gcloud_available()
    if not ok:
        out(f"gcp: skipped ({reason})")
    else:
        import os

        emu = Emulators.start(project="z3-bench", tasks_target_port=None)
        try:
            out("emulator start-up: " + ", ".join(f"{k} {v:.1f}s" for k, v in emu.startup_seconds.items()))
            os.environ.update(emu.env)
            gcp = Ports(Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-bench", **emu.env))
            results["gcp"] = {}
            for r in range(rounds):
                emu.reset_firestore()
                for name, fn in _workload(gcp.store(), n, f"tenants/bench{r}").items():
                    results["gcp"].setdefault(name, []).append(timed(fn, 1)[0])
            gcp.close()
        finally:
            emu.stop()
    out(f"{'operation':<20} {'local ms':>10} {'gcp-emulator ms':>16} {'gcp/local':>10}")
    for name in results["local"]:
        lm = median_ms(results["local"][name])
        g = results.get("gcp", {}).get(name)
        gm = median_ms(g) if g else float("nan")
        out(f"{name:<20} {lm:>10.1f} {gm:>16.1f} {gm / lm:>10.2f}")


SECTIONS = {"ports": "tools.bench:bench_ports", "auth": "tools.bench_auth:bench", "app": "tools.bench_app:bench", "voice": "tools.bench_voice:bench",
            "sms": "tools.bench_sms:bench", "retell": "tools.bench_retell:bench", "billing": "tools.bench_billing:bench",
            "voice-parts": "tools.bench_voice:bench_parts", "cold": "tools.bench_cold:bench",
            "calendar": "tools.bench_calendar:bench", "retention": "tools.bench_retention:bench"}
DEFAULT = ("ports", "voice", "sms", "retell", "cold")  # voice-parts is a diagnostic: asked for by name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("sections", nargs="*", default=list(DEFAULT), choices=list(SECTIONS))
    args = parser.parse_args(argv)
    for section in args.sections:
        module_name, func = SECTIONS[section].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            out(f"== {section}: not available yet ==")
            continue
        getattr(module, func)()
        out()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
