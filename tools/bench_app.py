"""``scripts/bench app``: the dashboard's calls list at 1,000 and at 100,000 calls in one
business (seeded by the bench on the embedded backend), through the real app function:
p50 of the calls page, of ``GET /api/v1/calls`` (plain, filtered by outcome) and of ``POST
/api/v1/calls/search`` (searched in transcripts), of the home page's overview and ``GET
/api/v1/overview``, and the documents each request reads (counted at the store). The goal: the
100,000-call figures within 1.5x of the 1,000-call ones, a page reading page size + a constant
(the overview: today's calls + one summary per settled day, however long the history).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

SIZES = (1_000, 100_000)
ROUNDS = 40
WORDS = ("cleaning", "crown", "whitening", "filling", "checkup", "invoice", "parking", "insurance")


class CountingStore:
    """The store, counting the documents reads return (gets, queries, transaction reads)."""

    def __init__(self, store) -> None:
        self.store, self.read = store, 0

    def get(self, path):
        found = self.store.get(path)
        self.read += found is not None
        return found

    def query(self, query):
        docs = self.store.query(query)
        self.read += len(docs)
        return docs

    def get_many(self, paths):
        found = self.store.get_many(paths)
        self.read += sum(1 for doc in found.values() if doc is not None)
        return found

    def transaction(self, fn, **kwargs):
        outer = self

        def counted(tx):
            class Tx:
                def get(self, path):
                    found = tx.get(path)
                    outer.read += found is not None
                    return found

                def __getattr__(self, name):
                    return getattr(tx, name)

            return fn(Tx())

        return self.store.transaction(counted, **kwargs)

    def __getattr__(self, name):
        return getattr(self.store, name)


def _seed(ports, tenant_id: str, n: int, now: dt.datetime) -> None:
    from shared.voice.listing import listing_fields

    store = ports.store()
    for first in range(0, n, 500):
        batch = store.batch()
        for i in range(first, min(first + 500, n)):
            sid = f"CA{i:032x}"
            word = WORDS[i % len(WORDS)] if i % 50 else "molar"  # "molar": 1 call in 50
            doc = {"call_sid": sid, "from": f"+1602555{i % 10000:04d}", "to": "+13035550100", "route": "ai",
                   "status": "no-answer" if i % 7 == 0 else "completed", "duration": 60 + i % 240,
                   "created_at": now - dt.timedelta(minutes=3 * i), "summary": f"Caller asked about {word}.",
                   "transcript": f"Agent: Hello. User: I am calling about a {word}, thanks."}
            batch.set(f"tenants/{tenant_id}/calls/{sid}", {**doc, **listing_fields(doc)})
        batch.commit()


def _measure(n: int) -> dict[str, tuple[float, float]]:
    from shared import runtime
    from shared.accounts import policy, sessions, tokens
    from shared.adapters.local.db import forget
    from shared.config import Settings
    from shared.ports import Query
    from shared.runtime import Ports
    from shared.tenants import create_tenant
    from shared.web import auth
    from tools.bench import pct, timed
    from tools.wsgi import function_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp))
        ports = runtime.use(Ports(settings))
        try:
            store, now = ports.store(), dt.datetime.now(dt.timezone.utc)
            tenant = create_tenant(store, name="Bench Dental", contact_name="Bench Owner",
                                   contact_email="owner@bench.example")
            owner = store.query(Query(f"tenants/{tenant.id}/users"))[0]
            store.update(owner.path, {"status": "active"})
            policy.record_acceptance(store, now, tenant_id=tenant.id, user_id=owner.id, ip="127.0.0.1",
                                     user_agent="bench", settings=settings)  # the home page asks otherwise
            _seed(ports, tenant.id, n, now)
            session = sessions.create(store, now, tenant_id=tenant.id, user_id=owner.id, role="owner")
            _made, token = tokens.create(store, now, settings.secret("z3_api_token_pepper"), tenant_id=tenant.id,
                                         user_id=owner.id, name="bench", scope="read")
            counting = CountingStore(store)
            ports.provide(store=counting)
            client = function_app("app").test_client()
            cookie = auth.LOCAL_COOKIE
            client.set_cookie(cookie, session.id)
            bearer = {"Authorization": f"Bearer {token}"}
            requests = {
                "calls page": lambda: client.get("/calls"),
                "GET /calls": lambda: client.get("/api/v1/calls?limit=25", headers=bearer),
                "GET /calls?outcome=missed": lambda: client.get("/api/v1/calls?limit=25&outcome=missed",
                                                                 headers=bearer),
                "POST /calls/search q=molar": lambda: client.post("/api/v1/calls/search",
                                                                  json={"limit": 25, "q": "molar"}, headers=bearer),
                # a call every 3 minutes: 480 a day; the settled days are read from their summaries
                "home page (overview)": lambda: client.get("/"),
                "GET /overview": lambda: client.get("/api/v1/overview", headers=bearer),
            }
            results = {}
            for name, call in requests.items():
                reply = call()
                if reply.status_code != 200:
                    raise RuntimeError(f"{name} answered {reply.status_code}")
                counting.read = 0
                call()
                reads = counting.read
                samples = timed(call, ROUNDS)
                results[name] = (pct(samples, 0.5), reads)
            return results
        finally:
            runtime.reset()
            ports.close()
            forget(Path(tmp))


def bench() -> None:
    from tools.bench import out

    out(f"== app: the calls list, {' vs '.join(f'{n:,}' for n in SIZES)} calls in one business, "
        f"p50 of {ROUNDS} requests, embedded backend ==")
    measured = {n: _measure(n) for n in SIZES}
    small, large = SIZES
    out(f"{'request':<28} {'p50 @1k ms':>11} {'p50 @100k ms':>13} {'ratio':>6} {'docs read @1k':>14} "
        f"{'@100k':>6}")
    for name in measured[small]:
        (p_small, r_small), (p_large, r_large) = measured[small][name], measured[large][name]
        out(f"{name:<28} {p_small:>11.1f} {p_large:>13.1f} {p_large / p_small:>6.2f} {r_small:>14} {r_large:>6}")
