"""The mailer: one notification request -> one email per recipient, sent once, through Resend.

``deliver(ports, request)`` is what the ``notify`` worker runs for each task. Per recipient:

1. **Claim** (one transaction): the log ``tenants/{t}/emails/{email_id}`` (``email_id`` from the
   request's ``dedup_key`` and the recipient) is read. A log past ``sending`` means an earlier
   delivery of this task finished the job: nothing is sent again. Otherwise the gates are
   checked -- every attempt, so a bounce that arrived meanwhile still stops a retry:

   * the address is on the suppression list (``shared.email.suppression``) -> ``blocked``;
   * a marketing email to a business that has not opted in (``settings.marketing_email_opt_in``),
     or that is not active -> ``blocked``;
   * a business that is closed gets only its privacy request updates -> ``blocked``.

   A blocked email is recorded with its reason and never reaches Resend. Otherwise the log is
   ``sending`` (created with ``prepared_at``, the time every render of this email is based on).
2. **Render** the template (``shared.email.render``), with the business's name, time zone and
   links; for marketing, a signed one-click unsubscribe link and the RFC 8058 headers.
3. **Send** with the Resend idempotency key ``z3/{dedup_key}/{recipient hash}``. If the process
   dies between Resend accepting the email and step 4, the retry sends the same bytes under the
   same key and Resend answers the first email's id instead of sending a second (24-hour window;
   our ``sent`` record covers everything after). Two concurrent deliveries of one task are
   covered the same way.
4. **Record** ``sent`` with Resend's id (never moving a log backwards: a webhook may have got
   there first) and the global index ``email_messages/{resend_id}`` for the webhooks.

Resend unavailable -> :class:`shared.providers.resend.ResendUnavailable` propagates: the task is
retried (recipients already sent are skipped). Resend refusing an email for good (invalid
address ...) -> the log says ``failed`` with Resend's error name, and the task is done.

Recipients: ``to_email`` when given (invites, password resets), else ``to_user_id``, else the
members the business chose for this template on the settings page
(``settings.notification_recipients``, not disabled), else the business's owners and admins
(``tenants/{t}/users``, not disabled), else its contact address. A choice that leaves nobody
(everyone chosen was removed) falls back to the owners and admins: a setting never drops a
notification.
Nothing here logs an address, a subject or the context.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from shared.email import log as email_log
from shared.email import suppression
from shared.email.addresses import digest, mask, normalize, short_hash
from shared.logging import get_logger
from shared.ports import Ports
from shared.tenants import TenantScope, UnknownTenant

log = get_logger("z3.email")

COMPANY_NAME = "Z3 Systems LLC"
COMPANY_ADDRESS = "9169 W State St Suite 470, Garden City, ID 83714, USA"  # CAN-SPAM: the sender's postal address
CONTACT_EMAIL = "privacy@z3os.com"  # the one address the privacy policy publishes
TEAM_ROLES = ("owner", "admin")
CLOSED_ALLOWED = frozenset({"privacy_request_update"})
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")
_READABLE_KEY = re.compile(r"^[A-Za-z0-9_.:/\-]{1,180}$")


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's email (no address: ``recipient`` is masked)."""

    email_id: str
    recipient: str
    status: str  # sent | blocked | failed | sending | (later webhook states when repeated)
    reason: str | None = None
    resend_id: str | None = None
    repeated: bool = False  # an earlier delivery of the same task had already settled it

    def public(self) -> dict[str, Any]:
        return {"email_id": self.email_id, "status": self.status, "reason": self.reason,
                "resend_id": self.resend_id, "repeated": self.repeated}


class UnreadableTask(ValueError):
    """A task body that can never become a notification (not JSON, wrong schema, a version we
    do not know): the worker acknowledges it with an error log instead of retrying forever."""


def read_task(raw: bytes) -> Any:
    """The :class:`shared.notifications.NotifyRequest` in a task body, or :class:`UnreadableTask`."""
    from pydantic import ValidationError

    from shared.notifications import NotifyRequest

    try:
        request = NotifyRequest.from_bytes(raw or b"")
    except ValidationError as exc:
        # Field locations and error types only: the input values are content.
        where = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})[:5]
        raise UnreadableTask(f"not a notification request ({', '.join(where)})") from None
    if request.version > NotifyRequest.VERSION:
        raise UnreadableTask(f"notification request version {request.version} is unknown")
    return request


def idempotency_key(dedup_key: str, address: str) -> str:
    """``z3/{dedup_key}/{recipient hash}``, or a digest when the dedup key is long or unusual
    (Resend takes up to 256 characters; the key travels as an HTTP header)."""
    if _READABLE_KEY.match(dedup_key):
        return f"z3/{dedup_key}/{short_hash(address)}"
    return f"z3/{digest(dedup_key)[:48]}/{short_hash(address)}"


# Stable messages (log-based alerts match them) for refusals that stop every email, not just one.
ALERTS = {
    "quota": "email sending stopped: Resend sending quota exceeded",
    "domain": "email sending stopped: Resend refused the sender domain or recipient",
}


def deliver(ports: Ports, request: Any) -> list[Outcome]:
    """Send ``request`` (a :class:`shared.notifications.NotifyRequest`) to its recipients."""
    from shared.email.render import category

    category(request.template)  # UnknownTemplate for a template we do not have
    scope = TenantScope(ports.store(), request.tenant_id)
    try:
        tenant = scope.tenant()
    except UnknownTenant:
        log.warning("notification for an unknown business: nothing to send",
                    extra={"tenant_id": request.tenant_id, "template": request.template})
        return []
    recipients = resolve_recipients(scope, tenant, request)
    if not recipients:
        log.warning("notification without a recipient", extra={"tenant_id": tenant.id, "template": request.template})
    return [send_one(ports, scope, tenant, request, address) for address in recipients]


def resolve_recipients(scope: TenantScope, tenant: Any, request: Any) -> list[str]:
    candidates: list[str] = []
    if request.to_email:
        candidates = [request.to_email]
    elif request.to_user_id:
        try:
            user = scope.get(f"users/{request.to_user_id}")
        except ValueError:
            user = None
        if user and user.get("status") != "disabled" and user.get("email"):
            candidates = [user["email"]]
    else:
        candidates = _chosen_members(scope, tenant, request.template) or _team(scope, tenant)
    out: list[str] = []
    for address in candidates:
        address = address.strip()
        if not _ADDRESS.match(address):
            log.error("notification recipient is not an email address", extra={"tenant_id": tenant.id})
            continue
        if normalize(address) not in {normalize(a) for a in out}:
            out.append(address)
    return out


def _chosen_members(scope: TenantScope, tenant: Any, template: str) -> list[str]:
    """The addresses of the members chosen for ``template`` on the settings page (one read)."""
    chosen = tenant.settings.notification_recipients.get(template) or []
    if not chosen:
        return []
    found = scope.store.get_many([scope.path(f"users/{user_id}") for user_id in chosen])
    return [user["email"] for user in found.values() if user and user.get("status") != "disabled" and user.get("email")]


def _team(scope: TenantScope, tenant: Any) -> list[str]:
    users = scope.query(scope.collection("users").where("role", "in", list(TEAM_ROLES)))
    team = sorted((d.data for d in users if d.get("status") != "disabled" and d.get("email")),
                  key=lambda u: (TEAM_ROLES.index(u.get("role")), str(u.get("created_at", "")), u.get("id", "")))
    return [u["email"] for u in team] or [tenant.contact.email]


def send_one(ports: Ports, scope: TenantScope, tenant: Any, request: Any, address: str) -> Outcome:
    from shared.email.render import category
    from shared.providers.resend import ResendRejected, send_email

    store = ports.store()
    now = ports.clock().now()
    kind = category(request.template)
    log_id = email_log.email_id(request.dedup_key, address)
    path = scope.path(email_log.rel_path(log_id))
    masked = mask(address)

    def claim(tx) -> tuple[str, dict[str, Any]]:
        current = tx.get(path)
        if current is not None and current.get("status") != "sending":
            return "settled", current
        tenant_doc = tx.get(scope.root) or {}
        blocked = _gate(kind, request.template, tenant_doc, suppression.check_in(tx, address, now))
        doc = current or email_log.new_log(log_id=log_id, template=request.template, category=kind,
                                           dedup_key=request.dedup_key, address=address, status="sending", now=now)
        if blocked:
            doc = {**doc, "status": "blocked", "reason": blocked, "updated_at": now}
            tx.set(path, doc)
            return "blocked", doc
        if current is None:
            tx.set(path, doc)
        return "send", doc

    action, doc = store.transaction(claim)
    fields = {"tenant_id": tenant.id, "email_id": log_id, "template": request.template}
    if action == "settled":
        return Outcome(log_id, masked, str(doc.get("status")), doc.get("reason"), doc.get("resend_id"), repeated=True)
    if action == "blocked":
        log.info("email not sent", extra={**fields, "reason": doc["reason"]})
        return Outcome(log_id, masked, "blocked", doc["reason"])

    params = _params(ports.settings, tenant, request, address, log_id, kind, doc["prepared_at"])
    try:
        resend_id: str | None = send_email(ports.settings, params,
                                           idempotency_key=idempotency_key(request.dedup_key, address))
        reason = None
    except ResendRejected as exc:
        if exc.name == "invalid_idempotent_request":
            # The key was used with other bytes (a deploy changed the template between two
            # attempts): Resend accepted an email under this key before, so it was sent.
            resend_id, reason = None, "sent_by_an_earlier_attempt"
        else:
            _settle(store, path, "failed", now, reason=f"rejected_{exc.name}"[:80])
            extra = {**fields, "status": exc.status, "error": exc.name}
            if exc.alert in ALERTS:  # every email fails until an operator acts: alert on these lines
                log.error(ALERTS[exc.alert], extra={**extra, "alert": exc.alert})
            else:
                log.warning("resend refused the email", extra=extra)
            return Outcome(log_id, masked, "failed", f"rejected_{exc.name}")
    _settle(store, path, "sent", now, resend_id=resend_id, reason=reason, tenant_id=tenant.id, log_id=log_id)
    log.info("email sent", extra={**fields, "resend_id": resend_id})
    return Outcome(log_id, masked, "sent", reason, resend_id)


def _gate(kind: str, template: str, tenant_doc: dict[str, Any], suppressed: Any) -> str | None:
    """The reason this email must not be sent, or None."""
    if suppressed is not None:
        return f"suppressed_{suppressed.reason}"
    status = tenant_doc.get("status", "active")
    if kind == "marketing":
        if not (tenant_doc.get("settings") or {}).get("marketing_email_opt_in"):
            return "marketing_not_opted_in"
        if status != "active":
            return "business_not_active"
    if status == "closed" and template not in CLOSED_ALLOWED:
        return "business_closed"
    return None


def _settle(store: Any, path: str, status: str, now: dt.datetime, *, resend_id: str | None = None,
            reason: str | None = None, tenant_id: str | None = None, log_id: str | None = None) -> None:
    """Record the send's result; a later state already recorded by a webhook stays."""

    def run(tx) -> None:
        current = tx.get(path) or {}
        patch: dict[str, Any] = {"updated_at": now}
        if email_log.advances(current.get("status"), status):
            patch["status"] = status
        if reason is not None:
            patch["reason"] = reason
        if status == "sent":
            patch["sent_at"] = current.get("sent_at") or now
            if resend_id:
                patch["resend_id"] = resend_id
        tx.set(path, patch, merge=True)
        if resend_id and tenant_id and log_id:
            tx.set(email_log.index_path(resend_id), {"tenant_id": tenant_id, "email_id": log_id,
                                                     "expire_at": now + email_log.KEEP})

    store.transaction(run)


def base_context(settings: Any, tenant: Any) -> dict[str, Any]:
    return {
        "business_name": tenant.name,
        "time_zone": tenant.time_zone,
        "dashboard_url": f"{settings.public_base_url.rstrip('/')}/app",
        "company_name": COMPANY_NAME,
        "company_address": COMPANY_ADDRESS,
        "contact_email": CONTACT_EMAIL,
        "privacy_email": CONTACT_EMAIL,
    }


def _params(settings: Any, tenant: Any, request: Any, address: str, log_id: str, kind: str,
            prepared_at: dt.datetime) -> dict[str, Any]:
    from shared.email import unsubscribe
    from shared.email.render import render

    base = base_context(settings, tenant)
    headers: dict[str, str] = {}
    if kind == "marketing":
        token = unsubscribe.make_token(settings, tenant_id=tenant.id, address=address, issued_at=prepared_at)
        base["unsubscribe_url"] = unsubscribe.unsubscribe_url(settings, token)
        headers.update(unsubscribe.list_unsubscribe_headers(base["unsubscribe_url"]))
    rendered = render(request.template, request.context, base=base)
    params: dict[str, Any] = {
        "from": settings.email_from,
        "to": [address],
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        # Tags come back on every webhook: they lead the event to its tenant and log.
        "tags": [{"name": "z3_tenant", "value": tenant.id}, {"name": "z3_email", "value": log_id},
                 {"name": "z3_template", "value": request.template}],
    }
    if headers:
        params["headers"] = headers
    return params
