"""The ``scripts/ops`` command line: the parser and the one place errors become exit statuses.

Every command is a function ``(args, ports) -> exit status`` in a module of this package.
Every error ends in one line on stderr naming what was wrong (``error: ...``) and a non-zero
status, never a traceback (``--traceback`` shows it): 1 not found, 2 bad input or
configuration, 3 refused (or an integrity check failed), 4 a store or provider is unavailable
(try again), 70 a bug. Read commands take ``--json``; lists print newest first and take
``--limit`` (default 50)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn

from pydantic import ValidationError

from shared.config import ConfigurationError
from shared.crm.endpoints import EVENT_TYPES
from shared.ports import NotFound, StoreUnavailable
from shared.privacy.requests import KINDS as PRIVACY_KINDS
from shared.tenants import NumberTaken, SignupRefused, UnknownTenant
from shared.billing.entitlements import LimitReached
from tools.ops import (
    billing, consent, crm, email, holds, integrations, policy, privacy, purge, queue, recordings, records, retention,
    settings, tenants, users,
)
from tools.ops.context import BAD_INPUT, NOT_FOUND, REFUSED, UNAVAILABLE, OpsError, open_ports

BUG = 70
DEFAULT_LIMIT = 50


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {value!r}")
    return int(value)


def _command(group: Any, name: str, fn: Callable[..., int], help: str, *, kind: str = "read",
             limit: bool = False) -> argparse.ArgumentParser:
    """One command. ``kind``: ``read`` (takes --json), ``write``, or ``create`` (the one kind
    allowed to start a new local database)."""
    p = group.add_parser(name, help=help, description=help)
    p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--backend", choices=["local", "gcp"], default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    if kind == "read":
        p.add_argument("--json", action="store_true", help="print JSON")
    if limit:
        p.add_argument("--limit", type=_positive, default=DEFAULT_LIMIT, help=f"at most N, newest first "
                       f"(default {DEFAULT_LIMIT})")
    p.set_defaults(fn=fn, kind=kind, creates=kind == "create")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scripts/ops", description="Z3 OS operator tools")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the local backend's data directory (default: Z3_DATA_DIR, else .z3data)")
    parser.add_argument("--backend", choices=["local", "gcp"], default=None,
                        help="the backend (default: Z3_BACKEND, else gcp when GOOGLE_CLOUD_PROJECT is set)")
    parser.add_argument("--traceback", action="store_true", help="on an unexpected error, show the traceback")
    sub = parser.add_subparsers(dest="area", required=True, metavar="AREA")

    tenant = sub.add_parser("tenant", help="businesses").add_subparsers(dest="action", required=True)
    p = _command(tenant, "create", tenants.create, "create a business", kind="create")
    p.add_argument("--name", required=True)
    p.add_argument("--number", action="append", help="an incoming number (E.164, US); repeatable")
    p.add_argument("--email", required=True, help="the owner's email (becomes the owner user)")
    p.add_argument("--contact", help="the owner's name")
    p.add_argument("--time-zone", default="America/New_York")
    p.add_argument("--country", default="US")
    p.add_argument("--id", help="tenant id (default: generated)")
    _command(tenant, "list", tenants.list_, "list businesses", limit=True)
    _command(tenant, "show", tenants.show, "one business").add_argument("tenant")
    p = _command(tenant, "status", tenants.status, "suspend, reactivate, flag or close a business", kind="write")
    p.add_argument("tenant")
    p.add_argument("status", choices=["active", "suspended", "flagged_for_deletion", "closed"])
    p.add_argument("--reason")
    p = _command(tenant, "purge", purge.purge, "delete a business flagged for deletion, after its notice period, "
                 "and print the deletion certificate", kind="write")
    p.add_argument("tenant")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _command(tenant, "residency", purge.residency_check, "flag accounts that look like they are in the "
                 "EU/EEA and email their owners", kind="write")
    p.add_argument("--json", action="store_true", help="print JSON")

    number = sub.add_parser("number", help="phone-number registry").add_subparsers(dest="action", required=True)
    for name, fn, help in (("assign", tenants.number_assign, "route a number to a business"),
                           ("release", tenants.number_release, "stop routing a number to a business")):
        p = _command(number, name, fn, help, kind="write")
        p.add_argument("--tenant", required=True)
        p.add_argument("--number", required=True)
    _command(number, "lookup", tenants.number_lookup, "which business a number belongs to").add_argument("number")

    user = sub.add_parser("user", help="team members").add_subparsers(dest="action", required=True)
    p = _command(user, "add", users.add, "invite a team member", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--role", default="staff", choices=["owner", "admin", "staff", "viewer"])
    p.add_argument("--name", default="")
    _command(user, "list", users.list_, "a business's team", limit=True).add_argument("--tenant", required=True)
    _command(user, "unlock", users.unlock, "lift a member's sign-in lock (after 10 failed sign-ins)",
             kind="write").add_argument("--email", required=True)
    token_cmd = sub.add_parser("api-token", help="personal API tokens").add_subparsers(dest="action", required=True)
    p = _command(token_cmd, "create", users.api_token_create, "make a member a personal API token (printed once)",
                 kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="what the token is for")
    p.add_argument("--scope", choices=["read", "write"], default="read")
    users_cmd = sub.add_parser("users", help="team members (same as: user list)").add_subparsers(
        dest="action", required=True)
    _command(users_cmd, "list", users.list_, "a business's team", limit=True).add_argument("--tenant", required=True)

    calls = sub.add_parser("calls", help="a business's calls").add_subparsers(dest="action", required=True)
    p = _command(calls, "list", records.calls_list, "calls, newest first (filters as on the dashboard)", limit=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--route", choices=["ai", "ivr", "forward", "voicemail", "rejected"])
    p.add_argument("--outcome", choices=["booked", "message", "missed", "answered", "rejected"])
    p.add_argument("--caller", help="the caller's number, its last 4 digits, or name")
    p.add_argument("--search", help="words of the transcript, summary or voicemail")
    p = _command(calls, "delete", records.calls_delete,
                 "delete a call: record, transcript, recordings, and Twilio's and Retell's copies (audited)",
                 kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("call_sid")
    p.add_argument("--yes", action="store_true", help="yes, delete it (it cannot be undone)")
    p = _command(calls, "show", records.calls_show, "one call: route, statuses, recordings, transcript")
    p.add_argument("--tenant", required=True)
    p.add_argument("call_sid")
    messages = sub.add_parser("messages", help="a business's texts").add_subparsers(dest="action", required=True)
    _command(messages, "list", records.messages_list, "texts in and out, newest first", limit=True).add_argument(
        "--tenant", required=True)
    appointments = sub.add_parser("appointments", help="a business's bookings").add_subparsers(
        dest="action", required=True)
    _command(appointments, "list", records.appointments_list, "appointments, latest start first",
             limit=True).add_argument("--tenant", required=True)

    queue_cmd = sub.add_parser("queue", help="the local event outbox and task queue").add_subparsers(
        dest="action", required=True)
    p = _command(queue_cmd, "list", queue.list_, "items not delivered yet (pending) or given up on (dead)",
                 limit=True)
    p.add_argument("--state", choices=["pending", "dead"], help="only these (default: everything not delivered)")
    _command(queue_cmd, "retry", queue.retry, "make a pending or dead item due now", kind="write").add_argument(
        "id", help="event/<seq> or task/<name>, as queue list shows")

    email_cmd = sub.add_parser("email", help="the email suppression list").add_subparsers(dest="action", required=True)
    _command(email_cmd, "show", email.show, "is an address suppressed, why and until when").add_argument(
        "--email", required=True)
    p = _command(email_cmd, "lift", email.lift, "lift an address's suppression (the owner fixed their mailbox)",
                 kind="write")
    p.add_argument("--email", required=True)
    p.add_argument("--recipient-asked", action="store_true", help="also lift a spam complaint: the recipient asked")

    recordings_cmd = sub.add_parser("recordings", help="call recordings").add_subparsers(dest="action", required=True)
    p = _command(recordings_cmd, "sweep", recordings.sweep,
                 "ingest recordings whose callback was lost (also runs every 30 min)", kind="write")
    p.add_argument("--json", action="store_true", help="print JSON")

    consent_cmd = sub.add_parser("consent", help="SMS consent ledger").add_subparsers(dest="action", required=True)
    p = _command(consent_cmd, "show", consent.show, "a number's consent history with the chain check")
    p.add_argument("--tenant", required=True)
    p.add_argument("--number", required=True)

    billing_cmd = sub.add_parser("billing", help="a business's Stripe billing").add_subparsers(
        dest="action", required=True)
    _command(billing_cmd, "show", billing.show, "plan, status, card facts, usage and invoices").add_argument(
        "--tenant", required=True)
    _command(billing_cmd, "sync", billing.sync, "re-fetch from Stripe and repair our record",
             kind="write").add_argument("--tenant", required=True)
    p = _command(billing_cmd, "checkout", billing.checkout, "a Stripe Checkout link that subscribes to a plan",
                 kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--plan", required=True, help="a plan id of the catalogue (starter, pro)")
    _command(billing_cmd, "portal", billing.portal, "a Stripe Customer Portal link (card, cancel, invoices)",
             kind="write").add_argument("--tenant", required=True)

    crm_cmd = sub.add_parser("crm", help="CRM webhooks").add_subparsers(dest="action", required=True)
    crm_endpoints = crm_cmd.add_parser("endpoints", help="a business's CRM webhook endpoints").add_subparsers(
        dest="crm_action", required=True)
    p = _command(crm_endpoints, "add", crm.add, "add an endpoint (prints its signing secret once)", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--url", required=True, help="https:// URL on a public address")
    p.add_argument("--event", action="append", choices=list(EVENT_TYPES), help="an event it takes; repeatable")
    p.add_argument("--description", default="")
    _command(crm_endpoints, "list", crm.list_, "endpoints, newest first", limit=True).add_argument(
        "--tenant", required=True)
    for name, fn, help, kind in (("enable", crm.enable, "enable an endpoint (--disable: pause it)", "write"),
                                 ("test", crm.test, "send a test event now and show the answer", "write")):
        p = _command(crm_endpoints, name, fn, help, kind=kind)
        p.add_argument("--tenant", required=True)
        p.add_argument("endpoint")
        if name == "enable":
            p.add_argument("--disable", action="store_true")
    p = _command(crm_endpoints, "deliveries", crm.deliveries, "an endpoint's delivery log", limit=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("endpoint")

    integrations_cmd = sub.add_parser("integrations", help="QuickBooks Online and Google Calendar connections").add_subparsers(
        dest="action", required=True)
    p = _command(integrations_cmd, "connect", integrations.connect_,
                 "print the authorize URL that connects a business's QuickBooks company or Google Calendar",
                 kind="write")
    p.add_argument("provider", choices=integrations.PROVIDERS)
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True, help="the owner or admin who connects it")
    p.add_argument("--calendar", help="google_calendar: the calendar id to use (default: the primary calendar)")
    _command(integrations_cmd, "status", integrations.status, "a business's connections").add_argument(
        "--tenant", required=True)
    p = _command(integrations_cmd, "disconnect", integrations.disconnect,
                 "revoke the connection at the provider and delete its tokens", kind="write")
    p.add_argument("provider", choices=integrations.PROVIDERS)
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True, help="the owner or admin who asked (named in the audit log)")
    _command(integrations_cmd, "calendar-sync", integrations.calendar_sync,
             "write the appointments whose Google Calendar event is missing or outdated", kind="write").add_argument(
        "--tenant", required=True)
    p = _command(integrations_cmd, "quickbooks-items", integrations.items,
                 "the QuickBooks company's service items (the ids quickbooks-item takes)")
    p.add_argument("--tenant", required=True)
    p = _command(integrations_cmd, "quickbooks-item", integrations.item,
                 "the service item and rate completed appointments are invoiced with", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--item", required=True, help="the QuickBooks item id")
    p.add_argument("--rate", required=True, type=float, help="the price per appointment")

    policy_cmd = sub.add_parser("policy", help="privacy policy and terms versions").add_subparsers(
        dest="action", required=True)
    _command(policy_cmd, "announce", policy.announce, "email every owner who has not accepted the configured "
             "versions (once per owner and version)", kind="write").add_argument(
        "--tenant", help="only this business (default: every business)")

    retention_cmd = sub.add_parser("retention", help="the retention sweep").add_subparsers(dest="action", required=True)
    p = _command(retention_cmd, "sweep", retention.sweep,
                 "delete what is past its time (also runs daily); --dry-run lists what would go", kind="write")
    p.add_argument("--dry-run", action="store_true", help="delete nothing; say what would go")
    p.add_argument("--now", help="sweep as of this time (ISO-8601 with a zone), not now")
    p.add_argument("--json", action="store_true", help="print JSON")

    privacy_cmd = sub.add_parser("privacy", help="privacy requests").add_subparsers(dest="action", required=True)
    p = _command(privacy_cmd, "request", privacy.request, "record a privacy request that came by email "
                 "(prints its id)", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--kind", required=True, choices=list(PRIVACY_KINDS))
    p.add_argument("--number", help="a caller's request (E.164); default: the account")
    p.add_argument("--email", help="where updates go (default: the business's contact email)")
    p.add_argument("--child", action="store_true", help="a deletion about a child under 13 (with --number)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a correction (--kind correct): name=...")
    p.add_argument("--by", default="operator", help="who records it")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _command(privacy_cmd, "verify", privacy.verify, "the requester's identity is verified: acknowledge and "
                 "queue the job", kind="write")
    p.add_argument("id")
    p.add_argument("--method", required=True, help="how the identity was verified")
    p.add_argument("--by", default="operator")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _command(privacy_cmd, "extend", privacy.extend, "extend a request once (up to 45 days), with the reason "
                 "the requester is sent", kind="write")
    p.add_argument("id")
    p.add_argument("--days", type=_positive, required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--by", default="operator")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _command(privacy_cmd, "list", privacy.list_, "privacy requests, newest first, overdue ones marked", limit=True)
    p.add_argument("--tenant")
    p.add_argument("--overdue", action="store_true", help="only the overdue ones")
    _command(privacy_cmd, "show", privacy.show, "one request and its history").add_argument("id")
    p = _command(privacy_cmd, "run", privacy.run, "carry out a verified request now", kind="write")
    p.add_argument("id")
    p.add_argument("--by", default="operator")
    p.add_argument("--json", action="store_true", help="print JSON")

    hold_cmd = sub.add_parser("hold", help="legal holds").add_subparsers(dest="action", required=True)
    p = _command(hold_cmd, "add", holds.add, "keep a tenant, a caller's number or a call from any deletion",
                 kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--number", help="hold one caller's data (E.164)")
    p.add_argument("--call", help="hold one call (its CallSid)")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", required=True, help="who places the hold")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _command(hold_cmd, "list", holds.list_, "active holds (--all: released too)", limit=True)
    p.add_argument("--tenant")
    p.add_argument("--all", action="store_true", help="released holds too")
    p = _command(hold_cmd, "release", holds.release, "release a hold (its record stays)", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("hold")
    p.add_argument("--by", required=True, help="who releases the hold")
    p.add_argument("--json", action="store_true", help="print JSON")

    settings_cmd = sub.add_parser("settings", help="a business's settings").add_subparsers(dest="action", required=True)
    _command(settings_cmd, "show", settings.show, "a business's settings").add_argument("--tenant", required=True)
    p = _command(settings_cmd, "set", settings.set_, "change settings (validated, audited)", kind="write")
    p.add_argument("--tenant", required=True)
    p.add_argument("--set", action="append", required=True, metavar="PATH=JSON",
                   help="a setting and its new value as JSON, e.g. voice.greeting='\"Hello\"'; repeatable")
    p = _command(settings_cmd, "preview", settings.route_preview, "what happens when a number calls at a time")
    p.add_argument("--tenant", required=True)
    p.add_argument("--number", help="the caller (default: no caller id)")
    p.add_argument("--day", required=True, choices=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    p.add_argument("--time", required=True, help="local time, e.g. 21:00")
    support_cmd = sub.add_parser("support", help="support requests").add_subparsers(dest="action", required=True)
    p = _command(support_cmd, "list", settings.support_list, "a business's support requests", limit=True)
    p.add_argument("--tenant", required=True)
    return parser


def _fail(message: str, status: int) -> int:
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    return status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ports, owned = None, False
    try:
        ports, owned = open_ports(args)
        return args.fn(args, ports)
    except OpsError as exc:
        return _fail(str(exc), exc.status)
    except ValidationError as exc:
        return _fail("; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()),
                     BAD_INPUT)
    except ConfigurationError as exc:
        return _fail(str(exc), BAD_INPUT)
    except StoreUnavailable as exc:
        what = {"TwilioUnavailable": "Twilio", "ResendUnavailable": "Resend", "StripeUnavailable": "Stripe",
                "IntuitUnavailable": "Intuit"}.get(type(exc).__name__, "the store")
        return _fail(f"{what} is unavailable ({exc}); nothing was changed by the failed call, try again", UNAVAILABLE)
    except UnknownTenant as exc:  # tenants.* raise it with the id asked for
        return _fail(f"no tenant {exc}", NOT_FOUND)
    except (NumberTaken, SignupRefused, LimitReached) as exc:
        return _fail(str(exc), REFUSED)
    except NotFound as exc:
        return _fail(f"not found: {exc}", NOT_FOUND)
    except (ValueError, LookupError, PermissionError) as exc:
        return _fail(str(exc) or type(exc).__name__, BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - the operator gets one line; --traceback shows the rest
        if args.traceback:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --traceback for the details)", BUG)
    finally:
        if owned and ports is not None:
            ports.close()
