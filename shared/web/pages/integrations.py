"""Settings → Integrations (``/settings/integrations``): QuickBooks Online and Google Calendar
(connect, disconnect, QuickBooks' invoice item, recent QuickBooks failures, the calendar repair)
and the CRM webhook endpoints (add, with the signing secret shown once on the answer to the
add; pause, resume, test, remove; each endpoint's delivery log). Owners and admins: the same
actions and services as ``/api/v1/integrations`` and ``/api/v1/crm/endpoints``.

Connect posts here and is sent on (303) to the provider's consent page with a state bound to
this session; the provider sends the browser to ``oauth_callback``, which sends it back here
(``?connected=<provider>``). The page's CSP lets its forms end up at the providers' consent
origins (``form-action``: a form's redirect is held to it). Every action renders the page
again with what happened; a provider that does not answer is a 503 with nothing changed.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, g, redirect, render_template, request

from shared.accounts import team
from shared.accounts.errors import NotFound
from shared.calendar import events as calendar_events
from shared.crm import delivery, endpoints, setup
from shared.crm.endpoints import EVENT_TYPES, UnknownEndpoint
from shared.crm.urls import UnsafeEndpointUrl
from shared.errors import InvalidInput as ServiceInvalidInput
from shared.integrations import connections, overview
from shared.integrations.connections import PROVIDER_LABELS, IntegrationError, NotConnected
from shared.ports import StoreUnavailable
from shared.providers import google_calendar, intuit
from shared.quickbooks import connect as quickbooks_connect
from shared.tenants import TenantScope
from shared.quickbooks.report import FAILURES
from shared.web import auth

blueprint = Blueprint("integrations", __name__, url_prefix="/settings/integrations")

EVENT_LABELS = {"call.completed": "A call ended", "appointment.booked": "An appointment was booked",
                "message.received": "A text came in", "voicemail.left": "A voicemail or message was left"}
REASONS = {"settings": "from Settings", "operator": "by Z3 OS support", "provider": "from inside the provider",
           "invalid_grant": "the provider stopped accepting our access"}
PROVIDER_HOSTS = {"quickbooks": "Intuit", "google_calendar": "Google"}
RECENT_FAILURES = 10


def _consent_origins() -> tuple[str, ...]:
    settings = auth.ports().settings
    return tuple(dict.fromkeys((intuit.authorize_origin(settings), google_calendar.authorize_origin(settings))))


def _names(tenant_id: str) -> dict[str, str]:
    return {m.id: m.name or m.email for m in team.members(auth.ports(), tenant_id)}


def _page(status: int = 200, *, errors: dict[str, str] | None = None, **extra: Any):
    principal = auth.principal()
    ports = auth.ports()
    scope = TenantScope(ports.store(), principal.tenant_id)
    failures = [d.data for d in scope.query(scope.collection(FAILURES).order_by("at", "desc").page(RECENT_FAILURES))]
    g.csp_form_action = _consent_origins()
    # before the states: asking Intuit may find the grant revoked, which disconnects
    connected = (connections.get(ports, principal.tenant_id, "quickbooks") or {}).get("status") == "connected"
    items = _service_items(principal.tenant_id) if connected else None
    return render_template(
        "integrations.html", integrations={s["provider"]: s for s in overview.overview(ports, principal.tenant_id)},
        service_items=items, failures=failures, crm_endpoints=endpoints.list_endpoints(ports, principal.tenant_id),
        event_types=EVENT_TYPES, event_labels=EVENT_LABELS, reasons=REASONS, names=_names(principal.tenant_id),
        max_endpoints=endpoints.MAX_ENDPOINTS, add_id=secrets.token_urlsafe(18),  # a reload re-posts it: one endpoint
        errors=errors or {}, form=extra.pop("form", {}), **extra), status


def _service_items(tenant_id: str) -> list[quickbooks_connect.ServiceItem] | None:
    """The company's service items for the invoice item's menu; None when Intuit cannot say right
    now (the page then asks for the item's number instead: the page never fails for it)."""
    try:
        return quickbooks_connect.service_items(auth.ports(), tenant_id)
    except (StoreUnavailable, IntegrationError, intuit.IntuitError):  # a refused grant is NotConnected
        return None


def _provider(value: str) -> str:
    try:
        return overview.check_provider(value)
    except overview.UnknownProvider:
        raise NotFound("No such integration.") from None


@blueprint.get("")
@auth.requires("integrations.read")
def index():
    connected = request.args.get("connected", "")
    notice = None
    if connected in overview.PROVIDERS:
        data = connections.get(auth.ports(), auth.principal().tenant_id, connected) or {}
        if data.get("status") == "connected":
            notice = f"{PROVIDER_LABELS[connected]} is connected."
    declined = request.args.get("declined", "")
    if declined in overview.PROVIDERS:  # oauth_callback: the flow did not complete (why: no personal data)
        host = PROVIDER_HOSTS[declined]
        why = {"denied": f"the connection was not approved at {host}.",
               "calendar": "this Google account may not add events to that calendar (or has none with that id). "
                           "Choose a calendar it owns or may edit."}.get(request.args.get("why", ""),
                                                                         f"{host} refused the connection.")
        return _page(error=f"{PROVIDER_LABELS[declined]} was not connected: {why} Nothing was stored; connect "
                           "again when ready.")
    return _page(notice=notice)


@blueprint.post("/connect")
@auth.requires("integrations.manage")
def connect():
    principal = auth.principal()
    provider = _provider(request.form.get("provider", ""))
    calendar_id = request.form.get("calendar_id", "").strip() or None if provider == "google_calendar" else None
    try:
        url = overview.start(auth.ports(), principal.tenant_id, provider, user_id=principal.user_id,
                             binding=connections.session_binding(principal.session_id or ""), calendar_id=calendar_id)
    except IntegrationError as exc:
        return _page(422, errors={"calendar_id": exc.reason}, error="Not connected: check the calendar id.")
    except StoreUnavailable:
        return _page(503, error=f"{PROVIDER_HOSTS[provider]} did not answer. Nothing changed: try again in a moment.")
    return redirect(url, code=303)


@blueprint.post("/disconnect")
@auth.requires("integrations.manage")
def disconnect():
    principal = auth.principal()
    provider = _provider(request.form.get("provider", ""))
    label = PROVIDER_LABELS[provider]
    try:
        done = overview.disconnect(auth.ports(), principal.tenant_id, provider, actor_user_id=principal.user_id)
    except StoreUnavailable:
        return _page(503, error=f"{PROVIDER_HOSTS[provider]} did not answer, so {label} is still connected. "
                                "Try again in a moment.")
    if not done:
        return _page(404, error=f"{label} is not connected.")
    return _page(notice=f"{label} is disconnected: access revoked at {PROVIDER_HOSTS[provider]} and the tokens "
                        "deleted.")


@blueprint.post("/quickbooks/item")
@auth.requires("integrations.manage")
def quickbooks_item():
    principal = auth.principal()
    item_id, raw_rate = request.form.get("item_id", "").strip(), request.form.get("rate", "").strip()
    form = {"item_id": item_id, "rate": raw_rate}
    try:
        rate = float(raw_rate.lstrip("$").replace(",", ""))
    except ValueError:
        return _page(422, errors={"rate": "enter an amount like 95.00"}, form=form,
                     error="The invoice item was not saved: check the marked field.")
    try:
        quickbooks_connect.set_item(auth.ports(), principal.tenant_id, item_id=item_id, rate=rate,
                                    actor_user_id=principal.user_id)
    except NotConnected:
        return _page(409, error="QuickBooks Online is not connected: connect it first.")
    except IntegrationError as exc:
        field = "item_id" if "item" in exc.reason else "rate"
        return _page(422, errors={field: exc.reason}, form=form,
                     error="The invoice item was not saved: check the marked field.")
    return _page(notice=f"Completed appointments are invoiced as QuickBooks item {item_id} at ${rate:,.2f}.")


@blueprint.post("/google_calendar/sync")
@auth.requires("integrations.manage")
def calendar_sync():
    try:
        synced, failed = calendar_events.sync_pending(auth.ports(), auth.principal().tenant_id)
    except NotConnected:
        return _page(409, error="Google Calendar is not connected: connect it first.")
    if failed:
        return _page(error=f"{synced} appointments written to Google Calendar; Google did not take {failed}. "
                                "Try again in a moment.")
    return _page(notice=f"{synced} appointments written to Google Calendar; none is missing now.")


# --- CRM webhooks ------------------------------------------------------------------------------

def _endpoint(endpoint_id: str) -> endpoints.Endpoint:
    try:
        return endpoints.get_endpoint(auth.ports(), auth.principal().tenant_id, endpoint_id)
    except UnknownEndpoint:
        raise NotFound("No such CRM endpoint.") from None


@blueprint.post("/crm")
@auth.requires("integrations.manage")
def crm_add():
    principal = auth.principal()
    url, chosen = request.form.get("url", "").strip(), request.form.getlist("events")
    description = request.form.get("description", "").strip()
    form = {"url": url, "events": chosen, "description": description}
    if not chosen or any(e not in EVENT_TYPES for e in chosen):
        return _page(422, errors={"events": "choose at least one event"}, form=form,
                     error="The endpoint was not added: check the marked fields.")
    try:
        endpoint, secret = setup.add_endpoint(auth.ports(), principal.tenant_id, url=url, events=chosen,
                                              description=description[:200], actor_user_id=principal.user_id,
                                              request_id=request.form.get("add_id") or None)
    except UnsafeEndpointUrl as exc:
        return _page(422, errors={"url": exc.reason}, form=form,
                     error="The endpoint was not added: check the marked fields.")
    except ServiceInvalidInput as exc:
        return _page(409, error=exc.reason, form=form)
    if secret is None:  # the same form sent again (a reload): nothing new was made
        return _page(notice=f"This endpoint was added already ({endpoint.url}); its signing secret was shown once. "
                            "To get a new secret, remove it and add it again.")
    return _page(201, new_secret=secret, new_endpoint=endpoint,
                 notice="Endpoint added. Copy its signing secret now: it is not shown again.")


@blueprint.post("/crm/<endpoint_id>/state")
@auth.requires("integrations.manage")
def crm_state(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    enabled = request.form.get("enabled") == "yes"
    endpoints.set_enabled(auth.ports(), endpoint.tenant_id, endpoint.id, enabled,
                          actor_user_id=auth.principal().user_id)
    return _page(notice=f"Endpoint {'resumed' if enabled else 'paused'}: {endpoint.url}")


@blueprint.post("/crm/<endpoint_id>/test")
@auth.requires("integrations.manage")
def crm_test(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    outcome = delivery.send_test(auth.ports(), endpoint.tenant_id, endpoint.id)
    if outcome.status == "delivered":
        return _page(notice=f"Test event delivered: the endpoint answered HTTP {outcome.last_status_code}.")
    answer = f"HTTP {outcome.last_status_code}" if outcome.last_status_code else "no answer"
    return _page(error=f"Test event not delivered ({answer}). See the delivery log.")


@blueprint.post("/crm/<endpoint_id>/delete")
@auth.requires("integrations.manage")
def crm_delete(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    endpoints.remove_endpoint(auth.ports(), endpoint.tenant_id, endpoint.id, actor_user_id=auth.principal().user_id)
    return _page(notice=f"Endpoint removed: nothing more is sent to {endpoint.url}")


@blueprint.get("/crm/<endpoint_id>")
@auth.requires("integrations.read")
def crm_deliveries(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    log = delivery.delivery_log(auth.ports(), endpoint.tenant_id, endpoint.id, limit=50)
    return render_template("integrations_deliveries.html", endpoint=endpoint, deliveries=log,
                           event_labels=EVENT_LABELS)
