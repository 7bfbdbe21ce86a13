"""``scripts/ops calls|messages|appointments``: a business's records, newest first.

Every list reads one page from the store (an ordered query with a limit), never the whole
collection: ``--limit`` (default 50) caps it. ``calls list`` filters like the dashboard
(``shared.voice.call_search``: a sparse filter may return fewer than ``--limit``)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from shared.runtime import Ports
from shared.scheduling.appointments import APPOINTMENTS, Appointment
from shared.tenants import TenantScope
from shared.voice.call_delete import delete_call
from shared.voice.call_search import CallFilters, search_calls
from shared.voice.calls import CallRecord, call_path, get_call
from tools.ops.context import BAD_INPUT, NOT_FOUND, OpsError, out, out_json
from tools.ops.tenants import require_tenant


def _scope(args: argparse.Namespace, ports: Ports) -> TenantScope:
    return TenantScope(ports.store(), require_tenant(ports, args.tenant).id)


def _page(scope: TenantScope, collection: str, order: str, limit: int) -> list[dict[str, Any]]:
    return [d.data for d in scope.query(scope.collection(collection).order_by(order, "desc").page(limit))]


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _clip(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def calls_list(args: argparse.Namespace, ports: Ports) -> int:
    scope = _scope(args, ports)
    filters = CallFilters(route=args.route, outcome=args.outcome, caller=args.caller, q=args.search)
    found = search_calls(scope, filters, args.limit) if filters.model_dump(exclude_none=True) else None
    docs = [d.data for d in found.calls] if found else _page(scope, "calls", "created_at", args.limit)
    calls = [CallRecord.model_validate(d) for d in docs]
    if args.json:
        out_json([c.model_dump(mode="json", by_alias=True) for c in calls])
        return 0
    if not calls:
        out(f"no calls at {scope.tenant_id}")
        return 0
    out(f"{'STARTED (UTC)':<17} {'CALL SID':<35} {'FROM':<13} {'ROUTE':<10} {'STATUS':<12} {'SECS':>5}  SUMMARY")
    for c in calls:
        duration = f"{c.duration:.0f}" if c.duration is not None else "-"
        out(f"{_when(c.started_at or c.created_at):<17} {c.call_sid:<35} {c.from_ or 'anonymous':<13} "
            f"{c.route or '-':<10} {c.status or '-':<12} {duration:>5}  {_clip(c.summary, 60)}")
    return 0


def calls_delete(args: argparse.Namespace, ports: Ports) -> int:
    """A call with its transcript and recordings, ours and the providers' copies (audited)."""
    scope = _scope(args, ports)
    if not args.yes:
        raise OpsError("deleting a call cannot be undone: add --yes", BAD_INPUT)
    try:
        call_path(args.call_sid)
    except ValueError:
        raise OpsError(f"{args.call_sid!r} is not a call sid") from None
    if get_call(scope, args.call_sid) is None:
        raise OpsError(f"no call {args.call_sid} at {scope.tenant_id}", NOT_FOUND)
    recordings = delete_call(ports, scope.tenant_id, args.call_sid, actor_user_id=None, by="operator")
    out(f"deleted {args.call_sid} at {scope.tenant_id} with {recordings} recording(s), Twilio's and Retell's copies")
    return 0


def calls_show(args: argparse.Namespace, ports: Ports) -> int:
    scope = _scope(args, ports)
    try:
        call = get_call(scope, args.call_sid)
    except ValueError:
        raise OpsError(f"{args.call_sid!r} is not a call sid") from None
    if call is None:
        raise OpsError(f"no call {args.call_sid} at {scope.tenant_id}", NOT_FOUND)
    out_json(call.model_dump(mode="json", by_alias=True))
    return 0


def messages_list(args: argparse.Namespace, ports: Ports) -> int:
    scope = _scope(args, ports)
    messages = _page(scope, "messages", "created_at", args.limit)
    if args.json:
        out_json(messages)
        return 0
    if not messages:
        out(f"no messages at {scope.tenant_id}")
        return 0
    out(f"{'AT (UTC)':<17} {'DIR':<4} {'FROM':<13} {'TO':<13} {'STATUS':<12} BODY")
    for m in messages:
        direction = "in" if m.get("direction") == "inbound" else "out"
        out(f"{_when(m.get('created_at')):<17} {direction:<4} {m.get('from') or '-':<13} {m.get('to') or '-':<13} "
            f"{m.get('status') or '-':<12} {_clip(m.get('body'), 60)}")
    return 0


def appointments_list(args: argparse.Namespace, ports: Ports) -> int:
    """Latest start first (the ones coming up, then the past ones)."""
    scope = _scope(args, ports)
    appointments = [Appointment.from_doc(d) for d in _page(scope, APPOINTMENTS, "start", args.limit)]
    if args.json:
        out_json([a.model_dump(mode="json") for a in appointments])
        return 0
    if not appointments:
        out(f"no appointments at {scope.tenant_id}")
        return 0
    out(f"{'START (UTC)':<17} {'STATUS':<10} {'CUSTOMER':<24} {'PHONE':<13} {'SOURCE':<9} REASON")
    for a in appointments:
        out(f"{_when(a.start):<17} {a.status:<10} {_clip(a.customer_name, 24):<24} {a.customer_phone or '-':<13} "
            f"{a.source:<9} {_clip(a.reason, 50)}")
    return 0
