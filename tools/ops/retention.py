"""``scripts/ops retention sweep [--dry-run] [--now ISO-8601]``: the retention sweep, now (what
``retention_sweep`` does daily), or as of another time (``--now``: for tests, and to see what a
date would delete). ``--dry-run`` deletes nothing and lists what would go."""

from __future__ import annotations

import argparse
import datetime as dt

from shared.retention.sweep import sweep as run_sweep
from shared.runtime import Ports
from tools.ops.context import OpsError, out, out_json


def moment(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise OpsError(f"{raw!r} is not an ISO-8601 time (e.g. 2027-01-31T00:00:00Z)") from None
    if value.tzinfo is None:
        raise OpsError(f"{raw!r} has no time zone: add Z or an offset")
    return value.astimezone(dt.timezone.utc)


def sweep(args: argparse.Namespace, ports: Ports) -> int:
    as_of = moment(args.now) if args.now else None
    report = run_sweep(ports, as_of=as_of, dry_run=args.dry_run)
    if args.json:
        out_json(report.to_dict())
        return 0
    verb = "would delete" if report.dry_run else "deleted"
    out(f"retention sweep {report.run_id} as of {report.as_of.isoformat()}{' (dry run)' if report.dry_run else ''}: "
        f"{verb} {report.total('deleted')} documents, {report.total('recordings')} recordings, "
        f"{report.total('transcripts')} transcripts; {report.total('held')} kept by a hold")
    for tenant_id, collections in report.tenants.items():
        for name, counts in collections.items():
            if counts["due"]:
                out(f"  {tenant_id:<22} {name:<16} due {counts['due']:>6}  {verb} {counts['deleted']:>6}  "
                    f"recordings {counts['recordings']:>5}  transcripts {counts['transcripts']:>5}  "
                    f"held {counts['held']:>5}")
    for error in report.errors:
        out(f"  {error['tenant_id']}: failed ({error['error']}); the next sweep tries again")
    return 0
