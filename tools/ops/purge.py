"""``scripts/ops tenant purge T``: run the account deletion cascade (``shared.privacy.erase``) for
a business flagged for deletion (``flagged_for_deletion``, e.g. believed to be in the EU/EEA)
once its notice period (:data:`shared.privacy.residency.NOTICE`) is over, and print the deletion
certificate. Resumable: run it again after a failure and it finishes (the job id is per tenant).
Exit status 3 when refused (not flagged, notice running, a legal hold)."""

from __future__ import annotations

import argparse

from shared.models.tenant import TenantStatus
from shared.privacy import residency
from shared.privacy.erase import TOMBSTONES, Certificate, DeletionRefused, erase_account
from shared.runtime import Ports
from tools.ops.context import REFUSED, OpsError, out, out_json
from tools.ops.tenants import require_tenant


def print_certificate(cert: Certificate, as_json: bool) -> None:
    if as_json:
        out_json(cert.to_doc())
        return
    out(f"deletion certificate {cert.job_id}: {cert.subject} of {cert.tenant_id}")
    out(f"  started {cert.started_at}, completed {cert.completed_at or '(not yet)'}")
    out(f"  documents deleted: {cert.total} ({', '.join(f'{k} {v}' for k, v in sorted(cert.deleted.items())) or '-'})")
    out(f"  recordings and files deleted: {cert.blobs}")
    out(f"  at providers: {', '.join(f'{k} {v}' for k, v in sorted(cert.providers.items())) or '-'}")
    if cert.held:
        out(f"  kept by a legal hold: {cert.held} ({', '.join(cert.holds)})")
    for kept in cert.kept:
        out(f"  kept: {kept['what']}: {kept['why']}")


def purge(args: argparse.Namespace, ports: Ports) -> int:
    store = ports.store()
    job_id = f"purge-{args.tenant}"
    if store.get(f"{TOMBSTONES}/{args.tenant}") is None:
        tenant = require_tenant(ports, args.tenant)
        status = getattr(tenant.status, "value", tenant.status)
        if status != TenantStatus.flagged_for_deletion.value and store.get(f"deletion_certificates/{job_id}") is None:
            raise OpsError(f"{args.tenant} is {status}, not flagged_for_deletion: flag it first "
                           "(scripts/ops tenant status T flagged_for_deletion --reason ...)", REFUSED)
        ends = residency.notice_ends(store, args.tenant)
        if ends is not None and ends > ports.clock().now():
            raise OpsError(f"the owner's notice period runs until {ends.isoformat()}: purge after that", REFUSED)
    try:
        cert = erase_account(ports, tenant_id=args.tenant, job_id=job_id)
    except DeletionRefused as exc:
        raise OpsError(str(exc), REFUSED) from None
    print_certificate(cert, args.json)
    return 0


def residency_check(args: argparse.Namespace, ports: Ports) -> int:
    """Flag every active account with an EU/EEA signal (address, account country, contact number)
    and email its owner (``shared.privacy.residency``); prints the accounts flagged now."""
    flagged = residency.flag_all(ports)
    if args.json:
        out_json([{"tenant_id": tid, "signal": s.source, "country": s.country} for tid, s in flagged])
    else:
        out(f"{len(flagged)} account(s) flagged for deletion now")
        for tid, signal in flagged:
            out(f"  {tid}: {signal.reason}; purge after {residency.NOTICE.days} days (scripts/ops tenant purge {tid})")
    return 0
