"""The Appointments pages: upcoming and past, a week view, one appointment with cancel and
reschedule (to a slot the business offers; the caller is texted only through the send gate)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request

from shared.accounts import permissions
from shared.accounts.errors import AccountError
from shared.scheduling import manage
from shared.scheduling.appointments import iter_open_slots
from shared.tenants import TenantScope
from shared.web import auth

blueprint = Blueprint("appointments", __name__, url_prefix="/appointments")
OFFERED = 40  # open slots offered for a reschedule


def _scope() -> TenantScope:
    return TenantScope(auth.ports().store(), auth.principal().tenant_id)


def _local(zone: ZoneInfo):
    return lambda at: at.astimezone(zone).strftime("%a %b %-d, %-I:%M %p") if at else ""


@blueprint.get("")
@auth.requires("appointments.read")
def index():
    scope, now = _scope(), auth.now()
    zone = scope.tenant().zone
    return render_template("appointments.html", upcoming=manage.upcoming(scope, now), past=manage.past(scope, now),
                           local=_local(zone))


@blueprint.get("/week")
@auth.requires("appointments.read")
def week():
    scope, now = _scope(), auth.now()
    zone = scope.tenant().zone
    try:
        day = dt.date.fromisoformat(request.args.get("start", ""))
    except ValueError:
        day = now.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    return render_template("appointments_week.html", days=manage.week(scope, monday), monday=monday,
                           previous=monday - dt.timedelta(days=7), following=monday + dt.timedelta(days=7),
                           clock=lambda at: at.astimezone(zone).strftime("%-I:%M %p"))


def _detail(appointment_id: str, status: int = 200, **extra):
    principal, scope, now = auth.principal(), _scope(), auth.now()
    tenant = scope.tenant()
    appointment = manage.get(auth.ports(), principal.tenant_id, appointment_id)
    can_manage = permissions.can(principal, "appointments.manage")
    offered = list(itertools.islice(iter_open_slots(scope, tenant, now), OFFERED)) if can_manage else []
    zone = tenant.zone
    return render_template("appointment.html", appointment=appointment, can_manage=can_manage,
                           offered=[(s.start.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes"),
                                     _local(zone)(s.start)) for s in offered], local=_local(zone), **extra), status


@blueprint.get("/<appointment_id>")
@auth.requires("appointments.read")
def detail(appointment_id: str):
    return _detail(appointment_id)


@blueprint.post("/<appointment_id>/cancel")
@auth.requires("appointments.manage")
def cancel(appointment_id: str):
    info = auth.client()
    change = manage.cancel(auth.ports(), auth.principal(), appointment_id, ip=info.ip, user_agent=info.user_agent)
    return _detail(appointment_id, notice=f"Appointment cancelled. {change.told()}")


@blueprint.post("/<appointment_id>/reschedule")
@auth.requires("appointments.manage")
def reschedule(appointment_id: str):
    info = auth.client()
    try:
        change = manage.reschedule(auth.ports(), auth.principal(), appointment_id, request.form.get("start", ""),
                                   ip=info.ip, user_agent=info.user_agent)
    except AccountError as exc:
        if exc.status not in (409, 422):
            raise
        return _detail(appointment_id, exc.status, error=exc.message)
    return _detail(appointment_id, notice=f"Moved to {change.appointment.label}. {change.told()}")
