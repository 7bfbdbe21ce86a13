"""``scripts/ops consent show``: a number's SMS consent history with the chain check, the
evidence a business shows a carrier or a court. Exit status 0 when the chain verifies, 3 when it
does not."""

from __future__ import annotations

import argparse

from shared import consent
from shared.runtime import Ports
from shared.tenants import TenantScope
from tools.ops.context import REFUSED, OpsError, out, out_json
from tools.ops.tenants import require_tenant


def show(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    try:
        number = consent.e164(args.number)  # any valid number: a caller may text from abroad
    except consent.InvalidNumber as exc:
        raise OpsError(f"{args.number!r} is {exc}") from None
    scope = TenantScope(ports.store(), tenant.id)
    events = consent.history(scope, number)
    report = consent.verify_chain(scope, number)
    status = 0 if report.ok else REFUSED
    if args.json:
        out_json({"tenant": tenant.id, "number": number, "state": report.state.value,
                  "chain": {"ok": report.ok, "length": report.length, "broken_at": report.broken_at,
                            "reason": report.reason},
                  "events": [e.to_doc() for e in events]})
        return status
    out(f"SMS consent of {number} at {tenant.name} ({tenant.id})")
    out(f"current state: {report.state.value}")
    if not events:
        out("no consent events (never asked)")
    for e in events:
        source = f"{e.source_type} {e.source_id}" + (f" ({e.keyword})" if e.keyword else "")
        out(f"#{e.seq}  {e.at.isoformat()}  {e.action:<8} by {e.method:<8} source: {source}")
        out(f"     disclosure: {e.disclosure!r}" if e.disclosure else "     disclosure: (none)")
        out(f"     hash {e.hash}  prev {e.prev_hash[:16]}...  expires {e.expire_at.date() if e.expire_at else '-'}")
    if report.ok:
        out(f"chain: OK ({report.length} events, every hash and link verified, state matches the last event)")
    else:
        out(f"chain: BROKEN at event {report.broken_at}: {report.reason}")
    return status
