"""``/integrations``: the business's QuickBooks Online and Google Calendar connections
(``shared.integrations.overview`` and each provider's package), owners and admins only.

Connecting is a browser's job: ``POST /integrations/connect`` answers the provider's authorize
URL with a single-use state bound to the caller's signed-in session, and the provider sends that
browser back to ``oauth_callback``, which needs the same session cookie. A personal API token has
no session to bind to and the callback could not present one, so a token caller gets 409
"connect from the dashboard" (an operator binding, as ``scripts/ops`` uses, would let anyone
holding a write token start flows that prove nothing about a browser). The provider is in the
body, not the path: the isolation walk calls every path with another business's values and a
connect answers any business its own URL.

A disconnect revokes the grant at the provider first; the provider down is a 503 and nothing is
deleted. Nothing here ever answers a token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.accounts.errors import Conflict, InvalidInput, NotFound
from shared.calendar import events as calendar_events
from shared.integrations import connections, overview
from shared.integrations.connections import IntegrationError, NotConnected
from shared.quickbooks import connect as quickbooks_connect
from shared.quickbooks.report import FAILURES
from shared.tenants import TenantScope
from shared.web import auth
from shared.web.api import pagination
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint

Provider = Literal["quickbooks", "google_calendar"]
PROVIDER = {"type": "string", "enum": list(overview.PROVIDERS)}
CONNECT_FROM_THE_DASHBOARD = ("Connect from the dashboard (Settings, Integrations): the connection is approved in "
                              "a browser signed in to Z3 OS, which an API token is not.")


class SyncFailureOut(BaseModel):
    appointment_id: str
    kind: str = Field(description="customer, invoice or changes")
    status: int | None = Field(description="Intuit's HTTP status")
    code: str | None = Field(description="Intuit's fault code")
    at: dt.datetime

    @classmethod
    def of(cls, data: dict[str, Any]) -> "SyncFailureOut":
        return cls(appointment_id=data.get("appointment_id") or "", kind=data.get("kind") or "",
                   status=data.get("status"), code=None if data.get("code") is None else str(data["code"]),
                   at=data["at"])


class IntegrationOut(BaseModel):
    provider: Provider
    label: str
    status: Literal["connected", "disconnected", "never"]
    connected_at: dt.datetime | None
    connected_by: str | None = Field(description="the member who connected it (null: an operator)")
    disconnected_at: dt.datetime | None
    disconnected_by: str | None
    disconnect_reason: str | None = Field(description="settings, operator, provider (from inside the provider) or "
                                                      "invalid_grant (the provider refused our refresh token)")
    account: str | None = Field(description="QuickBooks' company, Google's calendar name")
    calendar_id: str | None = Field(description="Google Calendar only")
    item_id: str | None = Field(description="QuickBooks only: the item invoices use (null: the item named Services)")
    rate: float | None = Field(description="QuickBooks only: the invoice amount per completed appointment")
    last_sync_at: dt.datetime | None
    last_error: SyncFailureOut | None = Field(description="QuickBooks' newest permanent failure")

    @classmethod
    def of(cls, data: dict[str, Any]) -> "IntegrationOut":
        error = data.get("last_error")
        return cls.model_validate({**data, "last_error": SyncFailureOut.of(error) if error else None})


class IntegrationsOut(BaseModel):
    items: list[IntegrationOut]


class ConnectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Provider
    calendar_id: str | None = Field(default=None, min_length=1, max_length=254,
                                    description="Google Calendar only: the calendar to use (default: primary)")

    @model_validator(mode="after")
    def _calendar_for_google(self) -> "ConnectIn":
        if self.calendar_id is not None and self.provider != "google_calendar":
            raise ValueError("calendar_id is for google_calendar")
        return self


class ConnectOut(BaseModel):
    provider: Provider
    authorize_url: str = Field(description="send the signed-in browser there; it comes back to oauth_callback")
    expires_at: dt.datetime = Field(description="the flow works once, until then")


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(pattern=r"^[0-9]{1,32}$", description="a QuickBooks item's id (Products and services)")
    rate: float = Field(ge=0, le=quickbooks_connect.MAX_RATE, allow_inf_nan=False,
                        description="dollars per completed appointment")


class CalendarSyncOut(BaseModel):
    synced: int = Field(description="appointments written to Google Calendar")
    failed: int = Field(description="appointments Google did not take (still pending: try again)")


def _tenant() -> str:
    return auth.principal().tenant_id


def _provider(provider: str) -> str:
    try:
        return overview.check_provider(provider)
    except overview.UnknownProvider:
        raise NotFound("No such integration.") from None


@operation(blueprint, "GET", "/integrations", action="integrations.read",
           summary="QuickBooks Online and Google Calendar: status, account, last sync and error", response=IntegrationsOut)
def list_integrations() -> IntegrationsOut:
    return IntegrationsOut(items=[IntegrationOut.of(s) for s in overview.overview(auth.ports(), _tenant())])


@operation(blueprint, "POST", "/integrations/connect", action="integrations.manage",
           summary="Start connecting a provider: its authorize URL, bound to this signed-in session",
           response=ConnectOut, body=ConnectIn, errors=(409,))
def connect_integration(body: ConnectIn) -> ConnectOut:
    principal = auth.principal()
    if principal.auth != "session" or not principal.session_id:
        raise Conflict(CONNECT_FROM_THE_DASHBOARD)
    try:
        url = overview.start(auth.ports(), principal.tenant_id, body.provider, user_id=principal.user_id,
                             binding=connections.session_binding(principal.session_id), calendar_id=body.calendar_id)
    except IntegrationError as exc:
        raise InvalidInput(f"calendar_id: {exc.reason}", field="calendar_id") from None
    return ConnectOut(provider=body.provider, authorize_url=url, expires_at=auth.now() + connections.STATE_TTL)


@operation(blueprint, "DELETE", "/integrations/<provider>", action="integrations.manage",
           summary="Disconnect: revoke at the provider, then delete the tokens (audited)", response=None, status=204,
           path_params={"provider": PROVIDER})
def disconnect_integration(provider: str) -> None:
    principal = auth.principal()
    if not overview.disconnect(auth.ports(), principal.tenant_id, _provider(provider),
                               actor_user_id=principal.user_id):
        raise NotFound("This integration is not connected.")


@operation(blueprint, "PUT", "/integrations/quickbooks/item", action="integrations.manage",
           summary="The QuickBooks item and rate completed appointments are invoiced as", response=IntegrationOut,
           body=ItemIn, errors=(409,))
def set_quickbooks_item(body: ItemIn) -> IntegrationOut:
    principal = auth.principal()
    try:
        quickbooks_connect.set_item(auth.ports(), principal.tenant_id, item_id=body.item_id, rate=body.rate,
                                    actor_user_id=principal.user_id)
    except NotConnected:
        raise Conflict("QuickBooks is not connected: connect it first.") from None
    except IntegrationError as exc:
        raise InvalidInput(f"item_id: {exc.reason}", field="item_id") from None
    return IntegrationOut.of(overview.status(auth.ports(), principal.tenant_id, "quickbooks"))


class ServiceItemOut(BaseModel):
    id: str = Field(description="what PUT /integrations/quickbooks/item takes as item_id")
    name: str
    unit_price: float | None = Field(description="the price QuickBooks has for it (invoices use our rate)")


class ServiceItemsOut(BaseModel):
    items: list[ServiceItemOut] = Field(description=f"active service items by name, at most "
                                                    f"{quickbooks_connect.MAX_ITEMS}")


@operation(blueprint, "GET", "/integrations/quickbooks/items", action="integrations.read",
           summary="The company's service items, to choose the one invoices use (asked of QuickBooks)",
           response=ServiceItemsOut, errors=(409,))
def quickbooks_items() -> ServiceItemsOut:
    try:
        found = quickbooks_connect.service_items(auth.ports(), _tenant())
    except NotConnected:
        raise Conflict("QuickBooks is not connected: connect it first.") from None
    return ServiceItemsOut(items=[ServiceItemOut(id=i.id, name=i.name, unit_price=i.unit_price) for i in found])


@operation(blueprint, "GET", "/integrations/quickbooks/failures", action="integrations.read",
           summary="What QuickBooks refused for good (customers, invoices), newest first",
           response=Page[SyncFailureOut], query=PageQuery)
def quickbooks_failures(query: PageQuery) -> Page[SyncFailureOut]:
    scope = TenantScope(auth.ports().store(), _tenant())
    return pagination.page(scope, FAILURES, "at", "desc", query, SyncFailureOut.of, Page[SyncFailureOut])


@operation(blueprint, "POST", "/integrations/google_calendar/sync", action="integrations.manage",
           summary="Write the appointments Google Calendar missed (a failed or pending write)",
           response=CalendarSyncOut, errors=(409,))
def sync_google_calendar() -> CalendarSyncOut:
    try:
        synced, failed = calendar_events.sync_pending(auth.ports(), _tenant())
    except NotConnected:
        raise Conflict("Google Calendar is not connected: connect it first.") from None
    return CalendarSyncOut(synced=synced, failed=failed)
