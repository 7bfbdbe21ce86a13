"""``scripts/ops``: the operator's command line. Uses the same Settings as the functions, so it
works against the embedded backend (default) or a real/emulated project (``Z3_BACKEND=gcp``).

Output is for the operator: a tenant's own contact data is shown (they are the data owner's
operator), but nothing here writes PII to logs."""

from __future__ import annotations

import argparse
import json
import sys


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _ports():
    from shared import runtime

    return runtime.current()


def cmd_tenant_create(args: argparse.Namespace) -> int:
    from shared import tenants

    store = _ports().store()
    tenant = tenants.create_tenant(
        store, name=args.name, contact_name=args.contact or args.name, contact_email=args.email,
        time_zone=args.time_zone, country=args.country, numbers=args.number or [], tenant_id=args.id,
    )
    _out(f"created {tenant.id}  {tenant.name}  numbers: {', '.join(tenant.numbers) or '-'}")
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    from shared import tenants

    rows = tenants.list_tenants(_ports().store())
    if args.json:
        _out(json.dumps([t.to_doc() for t in rows], default=str, indent=2))
        return 0
    if not rows:
        _out("no tenants")
        return 0
    _out(f"{'ID':<22} {'STATUS':<22} {'TIME ZONE':<20} {'NUMBERS':<28} NAME")
    for t in rows:
        _out(f"{t.id:<22} {t.status:<22} {t.time_zone:<20} {','.join(t.numbers) or '-':<28} {t.name}")
    return 0


def cmd_tenant_show(args: argparse.Namespace) -> int:
    from shared import tenants

    tenant = tenants.get_tenant(_ports().store(), args.tenant)
    if tenant is None:
        _out(f"no tenant {args.tenant}")
        return 1
    _out(json.dumps(tenant.to_doc(), default=str, indent=2))
    return 0


def cmd_tenant_status(args: argparse.Namespace) -> int:
    from shared import tenants
    from shared.models.tenant import TenantStatus

    tenant = tenants.set_status(_ports().store(), args.tenant, TenantStatus(args.status), args.reason)
    _out(f"{tenant.id} is now {tenant.status}")
    return 0


def cmd_number_assign(args: argparse.Namespace) -> int:
    from shared import tenants

    number = tenants.assign_number(_ports().store(), args.tenant, args.number)
    _out(f"{number} -> {args.tenant}")
    return 0


def cmd_number_release(args: argparse.Namespace) -> int:
    from shared import tenants

    tenants.release_number(_ports().store(), args.tenant, args.number)
    _out(f"released {args.number} from {args.tenant}")
    return 0


def cmd_number_lookup(args: argparse.Namespace) -> int:
    from shared import tenants

    tenant = tenants.tenant_for_number(_ports().store(), args.number)
    _out(f"{args.number} -> {tenant.id} ({tenant.name})" if tenant else f"{args.number} is not assigned")
    return 0 if tenant else 1


def cmd_user_add(args: argparse.Namespace) -> int:
    from shared import tenants
    from shared.models.tenant import Role

    user = tenants.add_user(_ports().store(), args.tenant, email=args.email, role=Role(args.role), name=args.name)
    _out(f"added {user.id} ({user.role}) to {args.tenant}")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    ports = _ports()
    if not ports.settings.is_local:
        _out("queues on gcp: see Cloud Tasks and Pub/Sub in the console (gcloud tasks queues describe ...)")
        return 0
    from shared.adapters.local.db import database

    db = database(ports.settings.z3_data_dir)
    for table in ("outbox", "tasks"):
        rows = db.read(f"SELECT status, COUNT(*) FROM {table} GROUP BY status")
        # 'leased': a dispatcher is delivering it now (redelivered if its lease runs out)
        labels = {"leased": "in flight"}
        _out(f"{table}: " + (", ".join(f"{labels.get(s, s)} {n}" for s, n in rows) or "empty"))
        what = "topic || ' -> ' || subscriber" if table == "outbox" else "name || ' -> ' || target"
        dead = db.read(f"SELECT {what}, attempts, last_error FROM {table} WHERE status = 'dead' LIMIT 20")
        for what, attempts, error in dead:
            _out(f"  dead: {what} after {attempts} attempts ({error})")
    return 0


def cmd_email_suppression(args: argparse.Namespace) -> int:
    """Show, or lift, the suppression of one address (a hard bounce, a spam complaint). A
    complaint is the recipient's "do not email me": it is lifted only with --recipient-asked.
    Exit status 0 done / nothing to lift, 3 refused."""
    from shared.email import suppression

    ports = _ports()
    store, now = ports.store(), ports.clock().now()
    held = suppression.check(store, args.email, now)
    if held is None:
        _out("not suppressed")
        return 0
    _out(f"suppressed: {held.reason} since {held.at:%Y-%m-%d}, until {held.expire_at:%Y-%m-%d}")
    if args.action == "show":
        return 0
    if held.reason == suppression.SuppressionReason.complained.value and not args.recipient_asked:
        _out("refused: the recipient complained; lift it only when they asked (--recipient-asked)")
        return 3
    suppression.lift(store, args.email)
    _out("lifted: the mailer sends to this address again")
    return 0


def cmd_recordings_sweep(args: argparse.Namespace) -> int:
    """Queue the ingest of recordings a lost callback left at Twilio (what ``recording_sweep``
    does on its schedule); prints what it found. Exit status 3 when some cannot be attributed."""
    from shared.voice.sweep import sweep_recordings

    result = sweep_recordings(_ports())
    _out(f"listed {result.listed} recordings at Twilio: {len(result.queued)} queued for ingest, "
         f"{len(result.already_queued)} already queued today, {result.too_recent} too recent to judge, "
         f"{result.not_completed} not completed")
    for sid in result.unattributed:
        _out(f"  no business's call explains {sid} (left at Twilio)")
    return 3 if result.unattributed else 0


def cmd_consent_show(args: argparse.Namespace) -> int:
    """A number's SMS consent history with the chain check: the evidence a business shows a
    carrier or a court. Exit status 0 when the chain verifies, 3 when it does not."""
    from shared import consent
    from shared.tenants import TenantScope, get_tenant

    store = _ports().store()
    tenant = get_tenant(store, args.tenant)
    if tenant is None:
        _out(f"no tenant {args.tenant}")
        return 1
    scope = TenantScope(store, tenant.id)
    number = consent.e164(args.number)
    events = consent.history(scope, number)
    report = consent.verify_chain(scope, number)
    if args.json:
        _out(json.dumps({"tenant": tenant.id, "number": number, "state": report.state.value,
                         "chain": {"ok": report.ok, "length": report.length, "broken_at": report.broken_at,
                                   "reason": report.reason},
                         "events": [e.to_doc() for e in events]}, default=str, indent=2))
        return 0 if report.ok else 3
    _out(f"SMS consent of {number} at {tenant.name} ({tenant.id})")
    _out(f"current state: {report.state.value}")
    if not events:
        _out("no consent events (never asked)")
    for e in events:
        source = f"{e.source_type} {e.source_id}" + (f" ({e.keyword})" if e.keyword else "")
        _out(f"#{e.seq}  {e.at.isoformat()}  {e.action:<8} by {e.method:<8} source: {source}")
        _out(f"     disclosure: {e.disclosure!r}" if e.disclosure else "     disclosure: (none)")
        _out(f"     hash {e.hash}  prev {e.prev_hash[:16]}...  expires {e.expire_at.date() if e.expire_at else '-'}")
    if report.ok:
        _out(f"chain: OK ({report.length} events, every hash and link verified, state matches the last event)")
    else:
        _out(f"chain: BROKEN at event {report.broken_at}: {report.reason}")
    return 0 if report.ok else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/ops", description="Z3 OS operator tools")
    sub = parser.add_subparsers(dest="area", required=True)

    tenant = sub.add_parser("tenant", help="businesses").add_subparsers(dest="action", required=True)
    p = tenant.add_parser("create", help="create a business")
    p.add_argument("--name", required=True)
    p.add_argument("--number", action="append", help="an incoming number (E.164, US); repeatable")
    p.add_argument("--email", required=True, help="the owner's email (becomes the owner user)")
    p.add_argument("--contact", help="the owner's name")
    p.add_argument("--time-zone", default="America/New_York")
    p.add_argument("--country", default="US")
    p.add_argument("--id", help="tenant id (default: generated)")
    p.set_defaults(fn=cmd_tenant_create)
    p = tenant.add_parser("list", help="list businesses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_tenant_list)
    p = tenant.add_parser("show", help="one business")
    p.add_argument("tenant")
    p.set_defaults(fn=cmd_tenant_show)
    p = tenant.add_parser("status", help="suspend, reactivate, flag or close a business")
    p.add_argument("tenant")
    p.add_argument("status", choices=["active", "suspended", "flagged_for_deletion", "closed"])
    p.add_argument("--reason")
    p.set_defaults(fn=cmd_tenant_status)

    number = sub.add_parser("number", help="phone-number registry").add_subparsers(dest="action", required=True)
    for name, fn in (("assign", cmd_number_assign), ("release", cmd_number_release)):
        p = number.add_parser(name)
        p.add_argument("--tenant", required=True)
        p.add_argument("--number", required=True)
        p.set_defaults(fn=fn)
    p = number.add_parser("lookup")
    p.add_argument("number")
    p.set_defaults(fn=cmd_number_lookup)

    user = sub.add_parser("user", help="team members").add_subparsers(dest="action", required=True)
    p = user.add_parser("add")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--role", default="staff", choices=["owner", "admin", "staff", "viewer"])
    p.add_argument("--name", default="")
    p.set_defaults(fn=cmd_user_add)

    p = sub.add_parser("queue", help="local outbox and task queue: pending, done, dead")
    p.set_defaults(fn=cmd_queue)

    email = sub.add_parser("email", help="the email suppression list").add_subparsers(dest="action", required=True)
    p = email.add_parser("show", help="is an address suppressed, why and until when")
    p.add_argument("--email", required=True)
    p.set_defaults(fn=cmd_email_suppression)
    p = email.add_parser("lift", help="lift an address's suppression (the owner fixed their mailbox)")
    p.add_argument("--email", required=True)
    p.add_argument("--recipient-asked", action="store_true", help="also lift a spam complaint: the recipient asked")
    p.set_defaults(fn=cmd_email_suppression)
    recordings = sub.add_parser("recordings", help="call recordings").add_subparsers(dest="action", required=True)
    p = recordings.add_parser("sweep", help="ingest recordings whose callback was lost (also runs every 30 min)")
    p.set_defaults(fn=cmd_recordings_sweep)
    consent_cmd = sub.add_parser("consent", help="SMS consent ledger").add_subparsers(dest="action", required=True)
    p = consent_cmd.add_parser("show", help="a number's consent history with the chain check")
    p.add_argument("--tenant", required=True)
    p.add_argument("--number", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_consent_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    try:
        return args.fn(args)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            sys.stderr.write(f"error: {where}: {err['msg']}\n")
        return 2
    except (ValueError, LookupError, PermissionError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
