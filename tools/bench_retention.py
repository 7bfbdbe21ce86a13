"""``scripts/bench retention``: the retention sweep's throughput against the raw batch-delete
throughput of the same store in the same run (1k, 10k, 100k expired documents on the embedded
backend: the ratio, and the per-document cost, which should stay flat), the same for 1k on the
Firestore emulator when gcloud is here, and the export's peak memory (RSS of a fresh process
that only exports) for 10k and 100k documents. Prints; asserts nothing."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.bench import out

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.datetime(2028, 1, 1, tzinfo=dt.timezone.utc)
PAST = AS_OF - dt.timedelta(days=1)


def _seed(store, tenant_id: str, n: int, collection: str = "messages") -> None:
    from shared.tenants import create_tenant

    if store.get(f"tenants/{tenant_id}") is None:
        create_tenant(store, tenant_id=tenant_id, name="Bench", contact_name="B", contact_email=f"{tenant_id}@b.example",
                      owner=False)
    for start in range(0, n, 400):
        batch = store.batch()
        for i in range(start, min(n, start + 400)):
            batch.set(f"tenants/{tenant_id}/{collection}/m{i:07d}",
                      {"from": "+17205550100", "body": "x" * 80, "created_at": PAST, "expire_at": PAST})
        batch.commit()


def _raw_delete(store, tenant_id: str, collection: str) -> None:
    from shared.ports import Query

    query = Query(f"tenants/{tenant_id}/{collection}").where("expire_at", "<=", AS_OF).order_by("expire_at")
    while True:
        docs = store.query(query.page(400))
        if not docs:
            return
        batch = store.batch()
        for doc in docs:
            batch.delete(doc.path)
        batch.commit()


def _compare(ports, n: int) -> tuple[float, float]:
    from shared.ports import FixedClock
    from shared.retention.sweep import sweep

    store = ports.store()
    _seed(store, f"t_raw{n}", n)
    start = time.perf_counter()
    _raw_delete(store, f"t_raw{n}", "messages")
    raw = time.perf_counter() - start
    store.delete(f"tenants/t_raw{n}")
    _seed(store, f"t_sw{n}", n)
    ports.provide(clock=FixedClock(AS_OF))
    start = time.perf_counter()
    report = sweep(ports, run_id=f"run-{n:08d}T000000")
    swept = time.perf_counter() - start
    assert report.total("deleted") == n, report.to_dict()["totals"]
    store.delete(f"tenants/t_sw{n}")
    return raw, swept


def _row(backend: str, n: int, raw: float, swept: float) -> None:
    out(f"{backend:<14} {n:>8} {raw:>9.2f} {swept:>9.2f} {n / raw:>12.0f} {n / swept:>12.0f} {raw / swept:>7.2f} "
        f"{swept / n * 1e6:>10.1f}")


def _export_rss(data_dir: Path, tenant_id: str) -> tuple[int, float]:
    code = ("import resource, sys, time; from shared.config import Settings; from shared.runtime import Ports; "
            "from shared.privacy.export import export; "
            f"p = Ports(Settings(Z3_BACKEND='local', Z3_DATA_DIR={str(data_dir)!r})); t = time.perf_counter(); "
            f"r = export(p, tenant_id={tenant_id!r}, export_id='bench'); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t, r.size)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    rss_kb, seconds, _size = done.stdout.split()
    return int(rss_kb), float(seconds)


def bench(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> None:
    from shared.adapters.local.db import forget
    from shared.config import Settings
    from shared.runtime import Ports

    out("== retention: sweep vs raw batch delete of the same expired documents, same store, same run ==")
    out(f"{'backend':<14} {'docs':>8} {'raw s':>9} {'sweep s':>9} {'raw docs/s':>12} {'sweep docs/s':>12} "
        f"{'ratio':>7} {'us/doc':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp) / "data"))
        for n in sizes:
            _row("local", n, *_compare(ports, n))
        ports.close()
        forget(Path(tmp) / "data")

    from tests.emulators import Emulators, gcloud_available

    ok, reason = gcloud_available()
    if not ok:
        out(f"gcp-emulator: skipped ({reason})")
    else:
        import os

        emu = Emulators.start(project="z3-bench", tasks_target_port=None)
        try:
            os.environ.update(emu.env)
            gcp = Ports(Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-bench", **emu.env))
            _row("gcp-emulator", 1_000, *_compare(gcp, 1_000))
            gcp.close()
        finally:
            emu.stop()

    out("== retention: export peak memory (RSS of a process that only exports) ==")
    out(f"{'docs':>8} {'peak RSS MiB':>13} {'seconds':>9}")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=data))
        for n in (10_000, 100_000):
            _seed(ports.store(), f"t_exp{n}", n)
        ports.close()
        forget(data)
        for n in (10_000, 100_000):
            rss, seconds = _export_rss(data, f"t_exp{n}")
            rows[n] = rss
            out(f"{n:>8} {rss / 1024:>13.1f} {seconds:>9.2f}")
    out(f"RSS 100k / 10k: {rows[100_000] / rows[10_000]:.2f}")
    out(json.dumps({"note": "ratio = raw time / sweep time (sweep throughput relative to raw)"}))
