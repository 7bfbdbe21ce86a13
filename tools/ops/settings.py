"""``scripts/ops settings ...`` and ``support list``: a business's settings through the same
service as the settings page (validated, audited as the operator), the route preview by the
voice rules engine, and the support requests of a business."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from shared.accounts.errors import AccountError
from shared.ports import Query
from shared.runtime import Ports
from shared.tenants import TenantScope, business_settings
from shared.voice.preview import describe_moment, preview
from tools.ops.context import BAD_INPUT, OpsError, out, out_json
from tools.ops.tenants import require_tenant

OPERATOR = "operator:scripts/ops"  # the audit entry's actor for a change made here


def show(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    settings = tenant.settings
    if args.json:
        out_json(settings.to_doc())
        return 0
    voice = settings.voice
    days = settings.recording_retention_days
    out(f"{tenant.id}  {tenant.name}  ({tenant.time_zone})")
    out(f"greeting:          {voice.greeting or '(default) Thanks for calling ' + tenant.name + '.'}")
    out(f"recording notice:  {settings.recording_notice}")
    out(f"hours:             {voice.describe_hours()}")
    out(f"holidays:          {', '.join(d.isoformat() for d in voice.holidays) or '-'}")
    out(f"open / after hours: {voice.open_action} / {voice.after_hours_action}")
    out(f"team:              {', '.join(f'{m.id} ({m.name})' for m in voice.team) or '-'}")
    out(f"blocked / VIP:     {len(voice.blocked_numbers)} / {len(voice.vip_numbers)} numbers")
    out(f"phone menu:        {'on' if voice.ivr.active else 'off'} ({len(voice.ivr.options)} options)")
    out(f"retention:         {f'{days} days' if days else 'until deleted'}")
    out(f"marketing email:   {'opted in' if settings.marketing_email_opt_in else 'no'}; service improvement: "
        f"{'opted out' if settings.service_improvement_opt_out else 'allowed'}")
    return 0


def _assignment(text: str) -> tuple[str, object]:
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise OpsError(f"{text!r} is not PATH=JSON (for example voice.greeting='\"Hello\"')")
    try:
        return path.strip(), json.loads(raw)
    except json.JSONDecodeError:
        raise OpsError(f"the value of {path.strip()} is not JSON: {raw!r}") from None


def set_(args: argparse.Namespace, ports: Ports) -> int:
    require_tenant(ports, args.tenant)
    changes = dict(_assignment(a) for a in args.set)
    try:
        business_settings.update(ports.store(), ports.clock().now(), tenant_id=args.tenant, actor_user_id=OPERATOR,
                                 changes=changes)
    except business_settings.SettingsInvalid as exc:
        raise OpsError("; ".join(f"{field}: {message}" for field, message in exc.errors.items()), BAD_INPUT) from None
    out(f"{args.tenant}: {', '.join(sorted(changes))} saved (audited); the next call follows them")
    return 0


def route_preview(args: argparse.Namespace, ports: Ports) -> int:
    tenant = require_tenant(ports, args.tenant)
    try:
        at = dt.time.fromisoformat(args.time)
    except ValueError:
        raise OpsError(f"{args.time!r} is not a time like 21:00") from None
    try:
        answer = preview(tenant, number=args.number or "", weekday=args.day, at=at, now=ports.clock().now())
    except AccountError as exc:
        raise OpsError(exc.message) from None
    if args.json:
        route = answer.route
        out_json({"at": answer.at.isoformat(), "action": route.action, "reason": route.reason, "detail": route.detail,
                  "forward_to": list(route.forward_to), "record": route.record, "summary": answer.summary(tenant)})
        return 0
    out(f"{describe_moment(answer.at)}: {answer.summary(tenant)} ({answer.route.reason}: {answer.route.detail})")
    return 0


def support_list(args: argparse.Namespace, ports: Ports) -> int:
    require_tenant(ports, args.tenant)
    scope = TenantScope(ports.store(), args.tenant)
    docs = ports.store().query(Query(scope.path("support_requests")).order_by("created_at", "desc").page(args.limit))
    rows = [{key: d.get(key) for key in ("id", "created_at", "user_id", "topic", "status", "subject")} for d in docs]
    if args.json:
        out_json(rows)
        return 0
    if not rows:
        out("no support requests")
    for row in rows:
        out(f"{row['id']}  {row['created_at']}  {row['status']:<6} {row['topic']:<8} {row['subject']}")
    return 0
