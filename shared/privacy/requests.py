"""Privacy requests: ``tenants/{t}/privacy_requests/{id}``, made by a business owner for their
account or for one of their callers (by number), through the API or by an operator for a
request that came by email (``scripts/ops privacy request``); run by the ``privacy_jobs`` worker.

Kinds: ``export`` (access and portability), ``know`` (California's right to know: categories,
sources, purposes, sub-processors, and what we hold), ``correct``, ``delete`` (``child=True``: a
request about a child under 13, same path), ``marketing-opt-out``.

The life of a request (every change is in the audit log and emailed to the requester with the
``privacy_request_update`` template):

``received`` -> ``acknowledged`` (identity verified: :func:`verify`; the job is queued) ->
``in_progress`` -> ``completed`` | ``denied``; at most one ``extended`` (up to 45 more days,
with the reason, while open).

SLA: acknowledged within 10 business days of receipt (Monday to Friday; public holidays are not
counted out, which only makes the deadline earlier), completed within 45 days, or by the
extended date. :func:`overdue` lists the requests past either; ``scripts/ops privacy list``
marks them and the check logs an ERROR ``privacy request overdue`` (the operator alert).

Nothing is released or erased before verification: :func:`run` refuses an unverified request.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from shared import consent
from shared.accounts import audit
from shared.logging import get_logger
from shared.models.tenant import TenantStatus
from shared.notifications import notify_business
from shared.phone import normalize_us
from shared.ports import Ports, Query
from shared.privacy import erase, export as export_mod
from shared.privacy.jobs import JobTask
from shared.tenants import TenantScope, UnknownTenant, get_tenant, list_tenants

log = get_logger("z3.privacy")

Kind = Literal["export", "know", "correct", "delete", "marketing-opt-out"]
KINDS: tuple[str, ...] = ("export", "know", "correct", "delete", "marketing-opt-out")
OPEN = ("received", "acknowledged", "in_progress", "extended")
ACKNOWLEDGE_BUSINESS_DAYS = 10
COMPLETE = dt.timedelta(days=45)
MAX_EXTENSION = dt.timedelta(days=45)
# the template's request types
REQUEST_TYPE = {"export": "export", "know": "right_to_know", "correct": "correction", "delete": "deletion",
                "marketing-opt-out": "marketing_opt_out"}
CORRECTABLE = ("name",)  # a caller's contact name; the account's contact name

# What the privacy policy lists, for the right to know.
DISCLOSURE = {
    "categories": ["identifiers (phone numbers, names, email addresses)", "call recordings and transcripts",
                   "text messages", "appointments", "SMS consent records", "account and usage records"],
    "sources": ["callers, through the business's phone number", "the business and its team, in the dashboard",
                "our providers' delivery reports"],
    "purposes": ["answering and routing the business's calls", "taking messages and booking appointments",
                 "texting callers who agreed to texts", "notifying the business", "billing and security"],
    "sub_processors": ["Twilio (telephony, SMS)", "Retell AI (voice agent)", "Resend (email)",
                       "Stripe (billing)", "Google Cloud (hosting)", "Intuit QuickBooks (when connected)",
                       "Google Calendar (when connected)"],
    "sold_or_shared": "no personal information is sold or shared for cross-context advertising",
}


class RequestError(ValueError):
    """The request cannot be made or moved as asked."""


class NotVerified(RequestError):
    """Nothing is released or erased before the requester's identity is verified."""


@dataclass
class Request:
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def status(self) -> str:
        return self.data["status"]

    def due(self) -> dt.datetime:
        return self.data.get("extended_until") or self.data["complete_by"]

    def overdue(self, now: dt.datetime) -> list[str]:
        late = []
        if self.status == "received" and now > self.data["acknowledge_by"]:
            late.append("acknowledgement")
        if self.status in OPEN and now > self.due():
            late.append("completion")
        return late


def add_business_days(start: dt.datetime, days: int) -> dt.datetime:
    at = start
    while days:
        at += dt.timedelta(days=1)
        if at.weekday() < 5:
            days -= 1
    return at


def _path(request_id: str) -> str:
    if not request_id or "/" in request_id:
        raise RequestError(f"{request_id!r} is not a request id")
    return f"privacy_requests/{request_id}"


def get(ports: Ports, tenant_id: str, request_id: str) -> Request:
    data = TenantScope(ports.store(), tenant_id).get(_path(request_id))
    if data is None:
        raise LookupError(f"no privacy request {request_id} on {tenant_id}")
    return Request(data)


def find(ports: Ports, request_id: str) -> tuple[str, Request]:
    """The tenant and request of an id (ops: the operator has only the id)."""
    for tenant in list_tenants(ports.store()):
        data = TenantScope(ports.store(), tenant.id).get(_path(request_id))
        if data is not None:
            return tenant.id, Request(data)
    raise LookupError(f"no privacy request {request_id}")


def _email(ports: Ports, tenant_id: str, request: Request, note: str = "", **extra: Any) -> None:
    data = request.data
    if not data.get("requester_email"):
        return
    notify_business(ports, tenant_id=tenant_id, template="privacy_request_update", to_email=data["requester_email"],
                    dedup_key=f"privacy/{tenant_id}/{request.id}/{data['status']}",
                    context={"request_id": request.id, "request_type": data["request_type"], "status": data["status"],
                             "note": note, "received_at": data["received_at"].isoformat(),
                             "complete_by": request.due().isoformat(), **extra})


def _move(ports: Ports, tenant_id: str, request: Request, status: str, *, by: str, note: str = "",
          patch: dict[str, Any] | None = None, email: dict[str, Any] | None = None) -> Request:
    now = ports.clock().now()
    history = [*request.data.get("history", []), {"status": status, "at": now, "by": by, "note": note}]
    data = {**request.data, **(patch or {}), "status": status, "history": history, "updated_at": now}
    TenantScope(ports.store(), tenant_id).set(_path(request.id), data)
    audit.record(ports.store(), now, tenant_id=tenant_id, action=f"privacy_request.{status}", actor_user_id=None,
                 target=request.id, changes={"kind": data["kind"], "by": by})
    moved = Request(data)
    _email(ports, tenant_id, moved, note, **(email or {}))
    return moved


def create(ports: Ports, *, tenant_id: str, kind: str, number: str | None = None, email: str | None = None,
           channel: str = "email", by: str, child: bool = False, correction: dict[str, str] | None = None) -> Request:
    if kind not in KINDS:
        raise RequestError(f"kind is one of {', '.join(KINDS)}, not {kind!r}")
    store = ports.store()
    tenant = get_tenant(store, tenant_id)
    if tenant is None:
        raise UnknownTenant(tenant_id)
    number = normalize_us(number) if number else None
    if child and (kind != "delete" or number is None):
        raise RequestError("a request about a child is a deletion of a caller's data (--number)")
    if kind == "correct":
        if not correction or set(correction) - set(CORRECTABLE):
            raise RequestError(f"a correction names what to correct: {', '.join(CORRECTABLE)}")
    now = ports.clock().now()
    request_id = f"pr_{now.strftime('%Y%m%d')}_{secrets.token_hex(4)}"
    data = {"id": request_id, "kind": kind, "subject": "caller" if number else "account", "number": number,
            "child": child, "requester_email": email or tenant.contact.email, "channel": channel,
            "request_type": "child_data_deletion" if child else REQUEST_TYPE[kind], "correction": correction or {},
            "status": "received", "received_at": now,
            "acknowledge_by": add_business_days(now, ACKNOWLEDGE_BUSINESS_DAYS), "complete_by": now + COMPLETE,
            "extended_until": None, "history": [{"status": "received", "at": now, "by": by, "note": ""}],
            "created_by": by, "result": {}}
    TenantScope(store, tenant_id).set(_path(request_id), data)
    audit.record(store, now, tenant_id=tenant_id, action="privacy_request.received", actor_user_id=None,
                 target=request_id, changes={"kind": kind, "by": by, "channel": channel})
    request = Request(data)
    _email(ports, tenant_id, request)
    return request


def verify(ports: Ports, tenant_id: str, request_id: str, *, by: str, method: str) -> Request:
    """The requester's identity is verified (``method``: how, e.g. "signed-in owner with 2FA",
    "reply from the account's email"); the request is acknowledged and its job queued."""
    request = get(ports, tenant_id, request_id)
    if request.status != "received":
        return request
    if not method.strip():
        raise RequestError("say how the identity was verified")
    request = _move(ports, tenant_id, request, "acknowledged", by=by, note="",
                    patch={"verified_at": ports.clock().now(), "verified_by": by, "verification": method.strip()})
    enqueue(ports, tenant_id, request_id)
    return request


def enqueue(ports: Ports, tenant_id: str, request_id: str) -> None:
    ports.tasks().enqueue("privacy_jobs", JobTask(tenant_id=tenant_id, request_id=request_id).to_bytes(),
                          name=f"privacy-{tenant_id}-{request_id}")


def extend(ports: Ports, tenant_id: str, request_id: str, *, days: int, reason: str, by: str) -> Request:
    request = get(ports, tenant_id, request_id)
    if request.status not in OPEN:
        raise RequestError(f"the request is {request.status}: nothing to extend")
    if request.data.get("extended_until") is not None:
        raise RequestError("a request is extended once at most")
    if not 1 <= days <= MAX_EXTENSION.days:
        raise RequestError(f"an extension is 1 to {MAX_EXTENSION.days} days")
    if not reason.strip():
        raise RequestError("an extension needs its reason (it is sent to the requester)")
    until = request.data["complete_by"] + dt.timedelta(days=days)
    return _move(ports, tenant_id, request, "extended", by=by, note=reason.strip(), patch={"extended_until": until})


def run(ports: Ports, tenant_id: str, request_id: str, *, by: str = "privacy_jobs") -> Request:
    """Carry the request out. Idempotent: a finished request is returned as it is; one that
    stopped half-way continues (every step below is)."""
    request = get(ports, tenant_id, request_id)
    if request.status in ("completed", "denied"):
        return request
    if not request.data.get("verified_at"):
        raise NotVerified("the requester's identity is not verified yet")
    if request.status != "in_progress":
        request = _move(ports, tenant_id, request, "in_progress", by=by)
    kind, number, data = request.data["kind"], request.data.get("number"), request.data
    job_id = f"{tenant_id}-{request_id}"
    if kind == "export":
        result = export_mod.export(ports, tenant_id=tenant_id, export_id=request_id, number=number)
        url = f"{ports.settings.public_base_url.rstrip('/')}/app/privacy/exports/{request_id}"
        return _move(ports, tenant_id, request, "completed", by=by,
                     patch={"result": {"export_id": request_id, "size": result.size, "counts": result.counts,
                                       "recordings": result.recordings, "expires_at": result.expires_at}},
                     email={"download_url": url, "download_expires_at": result.expires_at.isoformat()})
    if kind == "know":
        counts = export_mod.export(ports, tenant_id=tenant_id, export_id=request_id, number=number).counts
        note = ("We hold: " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items()) if n) + ". "
                "Categories: " + "; ".join(DISCLOSURE["categories"]) + ". Sub-processors: "
                + "; ".join(DISCLOSURE["sub_processors"]) + ". " + DISCLOSURE["sold_or_shared"].capitalize() + ".")
        url = f"{ports.settings.public_base_url.rstrip('/')}/app/privacy/exports/{request_id}"
        return _move(ports, tenant_id, request, "completed", by=by, note=note,
                     patch={"result": {**DISCLOSURE, "held": counts}}, email={"download_url": url})
    if kind == "correct":
        scope = TenantScope(ports.store(), tenant_id)
        fixed = data["correction"]
        if number:
            if scope.get(f"contacts/{number}") is None:
                return _move(ports, tenant_id, request, "denied", by=by, note="We hold no contact for that number.")
            scope.update(f"contacts/{number}", dict(fixed))
        else:
            ports.store().update(f"tenants/{tenant_id}", {f"contact.{k}": v for k, v in fixed.items()})
        return _move(ports, tenant_id, request, "completed", by=by, patch={"result": {"corrected": sorted(fixed)}})
    if kind == "marketing-opt-out":
        if number:
            consent.record(TenantScope(ports.store(), tenant_id), number, action="opt_out", method="web",
                           source_type="web", source_id=f"privacy-{request_id}", now=ports.clock().now(),
                           disclosure="Opted out of texts by a privacy request.")
        else:
            ports.store().update(f"tenants/{tenant_id}", {"settings.marketing_email_opt_in": False})
        return _move(ports, tenant_id, request, "completed", by=by, patch={"result": {"opted_out": True}})
    # delete
    if number:
        cert = erase.erase_caller(ports, tenant_id=tenant_id, number=number, job_id=job_id)
        return _move(ports, tenant_id, request, "completed", by=by, note=_summary(cert),
                     patch={"result": {"certificate": cert.job_id}})
    # The account: the request itself is account data and goes with it; the certificate
    # (deletion_certificates/{job_id}) is the record, and the requester is told it started.
    store = ports.store()
    if (store.get(f"tenants/{tenant_id}") or {}).get("status") != TenantStatus.closed.value:
        _email(ports, tenant_id, request, "Your account and its data are being deleted now; this is the last "
               "email about it. The deletion certificate is " + job_id + ".")
    cert = erase.erase_account(ports, tenant_id=tenant_id, job_id=job_id)
    log.info("privacy request completed", extra={"tenant_id": tenant_id, "request_id": request_id, "kind": kind})
    return Request({**data, "status": "completed", "result": {"certificate": cert.job_id}})


def _summary(cert: erase.Certificate) -> str:
    return (f"Deleted {cert.total} records and {cert.blobs} recordings"
            + (f", and {sum(cert.providers.values())} copies at our providers" if cert.providers else "")
            + ". Kept: " + "; ".join(k["what"] + " (" + k["why"] + ")" for k in cert.kept) + ".")


def overdue(ports: Ports, now: dt.datetime | None = None) -> list[tuple[str, Request, list[str]]]:
    """Open requests past their acknowledgement or completion date, for the operator; each is
    logged at ERROR (``privacy request overdue``: the alert)."""
    now = now or ports.clock().now()
    found = []
    for tenant in list_tenants(ports.store()):
        query = Query(f"tenants/{tenant.id}/privacy_requests").where("status", "in", list(OPEN))
        for doc in ports.store().stream(query):
            request = Request(doc.data)
            late = request.overdue(now)
            if late:
                found.append((tenant.id, request, late))
                log.error("privacy request overdue", extra={"tenant_id": tenant.id, "request_id": request.id,
                                                            "late": late})
    return found


def list_requests(ports: Ports, tenant_id: str) -> list[Request]:
    docs = ports.store().stream(Query(f"tenants/{tenant_id}/privacy_requests"))
    return sorted((Request(d.data) for d in docs), key=lambda r: r.data["received_at"], reverse=True)
