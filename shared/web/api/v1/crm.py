"""``/crm/endpoints``: the business's CRM webhook endpoints (``shared.crm``), owners and admins.

Adding one answers its signing secret once (201); nothing shows it again, and no other answer
holds it. A URL we would not send to (not https, a private, loopback or metadata address, a host
that does not resolve; loopback and http are allowed in development only) is a 422 on ``url``
naming the rule, never echoing the URL. The delivery log holds statuses and codes, never a
payload. Every change is in the audit log with who made it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts.errors import Conflict, InvalidInput, NotFound
from shared.crm import delivery, endpoints, setup
from shared.crm.endpoints import EventType, UnknownEndpoint
from shared.crm.fanout import DELIVERIES
from shared.crm.urls import MAX_URL, UnsafeEndpointUrl
from shared.errors import InvalidInput as ServiceInvalidInput
from shared.tenants import TenantScope
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.models import ID
from shared.web.api.v1.routes import blueprint

EVENT_TYPES = f"among {', '.join(endpoints.EVENT_TYPES)}"


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[EventType]
    enabled: bool
    description: str
    disabled_reason: str | None
    failing_since: dt.datetime | None = Field(description="the first failed delivery with no success since; "
                                                          "24 hours of failures disable the endpoint")
    created_at: dt.datetime | None

    @classmethod
    def of(cls, endpoint: endpoints.Endpoint) -> "EndpointOut":
        return cls.model_validate(endpoint.public())


class EndpointsOut(BaseModel):
    items: list[EndpointOut] = Field(description=f"newest first, at most {endpoints.MAX_ENDPOINTS}")


class EndpointCreated(EndpointOut):
    secret: str | None = Field(description="the Standard Webhooks signing secret (whsec_...): shown this once, give "
                                           "it to the CRM to verify webhook-signature; null when this answers a "
                                           "repeat of the same request_id (the endpoint was made before)")


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL, description="https://...; we POST each event there")
    events: list[EventType] = Field(min_length=1, max_length=len(endpoints.EVENT_TYPES), description=EVENT_TYPES)
    description: str = Field(default="", max_length=200)
    request_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,64}$",
                                   description="your idempotency key: a retry with the same one makes no second "
                                               "endpoint (and shows no secret again)")


class EndpointPatch(BaseModel):
    """Only the fields sent change; enabling resets the endpoint's health."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(endpoints.EVENT_TYPES),
                                           description=EVENT_TYPES)


class TestEventOut(BaseModel):
    delivery_id: str
    status: Literal["delivered", "failed"]
    attempts: int
    last_status_code: int | None = Field(description="the endpoint's HTTP status; null: no answer")


class DeliveryOut(BaseModel):
    id: str
    event_type: str
    webhook_id: str = Field(description="the webhook-id header, the same on every retry")
    status: Literal["pending", "retrying", "delivered", "failed", "skipped"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "DeliveryOut":
        return cls.model_validate(data)


def _endpoint(endpoint_id: str) -> endpoints.Endpoint:
    try:
        return endpoints.get_endpoint(auth.ports(), auth.principal().tenant_id, endpoint_id)
    except UnknownEndpoint:
        raise NotFound("No such CRM endpoint.") from None


@operation(blueprint, "GET", "/crm/endpoints", action="integrations.read", summary="The CRM webhook endpoints",
           response=EndpointsOut)
def list_crm_endpoints() -> EndpointsOut:
    found = endpoints.list_endpoints(auth.ports(), auth.principal().tenant_id)
    return EndpointsOut(items=[EndpointOut.of(e) for e in found])


@operation(blueprint, "POST", "/crm/endpoints", action="integrations.manage",
           summary="Add an endpoint: its signing secret is in this answer only", response=EndpointCreated,
           status=201, body=EndpointIn, errors=(409,))
def add_crm_endpoint(body: EndpointIn) -> EndpointCreated:
    principal = auth.principal()
    try:
        endpoint, secret = setup.add_endpoint(auth.ports(), principal.tenant_id, url=body.url, events=body.events,
                                              description=body.description, actor_user_id=principal.user_id,
                                              request_id=body.request_id)
    except UnsafeEndpointUrl as exc:
        raise InvalidInput(f"url: {exc.reason}", field="url") from None
    except ServiceInvalidInput as exc:  # the events are checked by the model: this is the endpoint limit
        raise Conflict(exc.reason) from None
    return EndpointCreated(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@operation(blueprint, "PATCH", "/crm/endpoints/<endpoint_id>", action="integrations.manage",
           summary="Enable or pause an endpoint, or change its events", response=EndpointOut, body=EndpointPatch,
           path_params={"endpoint_id": ID})
def patch_crm_endpoint(endpoint_id: str, body: EndpointPatch) -> EndpointOut:
    endpoint = _endpoint(endpoint_id)
    ports, user = auth.ports(), auth.principal().user_id
    if body.events is not None:
        endpoint = endpoints.set_events(ports, endpoint.tenant_id, endpoint.id, body.events, actor_user_id=user)
    if body.enabled is not None and body.enabled != endpoint.enabled:
        endpoint = endpoints.set_enabled(ports, endpoint.tenant_id, endpoint.id, body.enabled, actor_user_id=user)
    return EndpointOut.of(endpoint)


@operation(blueprint, "DELETE", "/crm/endpoints/<endpoint_id>", action="integrations.manage",
           summary="Remove an endpoint (nothing more is sent to it)", response=None, status=204,
           path_params={"endpoint_id": ID})
def remove_crm_endpoint(endpoint_id: str) -> None:
    endpoint = _endpoint(endpoint_id)
    endpoints.remove_endpoint(auth.ports(), endpoint.tenant_id, endpoint.id, actor_user_id=auth.principal().user_id)


@operation(blueprint, "POST", "/crm/endpoints/<endpoint_id>/test", action="integrations.manage",
           summary="Send a webhook.test event now (enabled or not) and answer how the endpoint took it",
           response=TestEventOut, path_params={"endpoint_id": ID})
def send_crm_test_event(endpoint_id: str) -> TestEventOut:
    endpoint = _endpoint(endpoint_id)
    outcome = delivery.send_test(auth.ports(), endpoint.tenant_id, endpoint.id)
    return TestEventOut(delivery_id=outcome.delivery_id, status=outcome.status, attempts=outcome.attempts,
                   last_status_code=outcome.last_status_code)


@operation(blueprint, "GET", "/crm/endpoints/<endpoint_id>/deliveries", action="integrations.read",
           summary="The endpoint's delivery log, newest first (kept 90 days)", response=Page[DeliveryOut],
           query=PageQuery, path_params={"endpoint_id": ID})
def crm_endpoint_deliveries(endpoint_id: str, query: PageQuery) -> Page[DeliveryOut]:
    scope = TenantScope(auth.ports().store(), auth.principal().tenant_id)
    after = pagination.decode(query.cursor, scope.path(DELIVERIES), "created_at") if query.cursor else None
    endpoint = _endpoint(endpoint_id)
    log = delivery.delivery_log(auth.ports(), endpoint.tenant_id, endpoint.id, limit=query.limit + 1, after=after)
    page, more = log[: query.limit], len(log) > query.limit
    next_cursor = pagination.encode(page[-1]["created_at"], page[-1]["id"]) if more and page else None
    return Page[DeliveryOut](items=[DeliveryOut.of(d) for d in page], next_cursor=next_cursor)
