"""The consent proof of one number: what a carrier or a court asks for.

One document, the same for the JSON download and the printable page: the business, the number,
its current state, every event of the hash-chained history (time, action, method, the exact
disclosure given, the source, ``prev_hash`` and ``hash``) and the result of re-checking the
chain now (:func:`shared.consent.verify_chain`), with the rule the hashes follow so anyone can
recompute them without our code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared import consent
from shared.tenants import TenantScope

HASH_RULE = ("hash = sha256 of the canonical JSON (keys sorted, no spaces, UTF-8, times as UTC "
             "YYYY-MM-DDTHH:MM:SS.ffffffZ, plus \"hash_version\": 1) of the event's fields except hash and "
             "expire_at; prev_hash of the first event is 64 zeros, of every other event the hash of the one before.")


def proof(scope: TenantScope, number: str, now: dt.datetime) -> dict[str, Any]:
    tenant = scope.get("") or {}
    events = consent.history(scope, number)
    report = consent.verify_chain(scope, number)
    return {
        "business": {"id": scope.tenant_id, "name": tenant.get("name", "")},
        "number": number,
        "state": report.state.value,
        "generated_at": now.astimezone(dt.timezone.utc).isoformat(),
        "chain": {"ok": report.ok, "length": report.length, "broken_at": report.broken_at, "reason": report.reason,
                  "hash_version": consent.HASH_VERSION, "rule": HASH_RULE},
        "events": [{"seq": e.seq, "at": e.at.astimezone(dt.timezone.utc).isoformat(), "action": e.action,
                    "method": e.method, "disclosure": e.disclosure, "source_type": e.source_type,
                    "source_id": e.source_id, "keyword": e.keyword, "prev_hash": e.prev_hash, "hash": e.hash}
                   for e in events],
    }
