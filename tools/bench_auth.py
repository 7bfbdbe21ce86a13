"""``scripts/bench auth``: the Argon2id hash time with the parameters in use (target 100-300 ms)
and what a session check costs per request (one document read on the embedded backend)."""

from __future__ import annotations

import tempfile
from pathlib import Path


def bench(rounds: int = 9) -> None:
    from shared.accounts import passwords, sessions
    from shared.adapters.local.db import forget
    from shared.config import Settings
    from shared.ports import SystemClock
    from shared.runtime import Ports
    from tools.bench import median_ms, out, pct, timed

    out(f"auth: Argon2id m={passwords.MEMORY_KIB // 1024} MiB, t={passwords.TIME_COST}, p={passwords.PARALLELISM}")
    hashes = timed(lambda: passwords.hash_password("marble-orchid-tunnel-31"), rounds)
    stored = passwords.hash_password("marble-orchid-tunnel-31")
    verifies = timed(lambda: passwords.verify(stored, "marble-orchid-tunnel-31"), rounds)
    out(f"  hash    median {median_ms(hashes):7.1f} ms  p90 {pct(hashes, 0.9):7.1f} ms")
    out(f"  verify  median {median_ms(verifies):7.1f} ms  p90 {pct(verifies, 0.9):7.1f} ms")
    breached = timed(lambda: passwords.is_breached("marble-orchid-tunnel-31"), 200)
    out(f"  breached-list lookup median {median_ms(breached):.3f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp))
        ports = Ports(settings)
        store, clock = ports.store(), SystemClock()
        session = sessions.create(store, clock.now(), tenant_id="t_bench", user_id="u_bench", role="owner")
        loads = timed(lambda: sessions.load(store, session.id, clock.now()), 2000)
        out(f"  session check (one read, local SQLite) median {median_ms(loads):.3f} ms  p99 {pct(loads, 0.99):.3f} ms")
        ports.close()
        forget(Path(tmp))
