"""Connecting, using and disconnecting a business's QuickBooks Online company.

* :func:`start` -- a connect flow's authorize URL (accounting scope, our single-use state);
* :func:`complete` -- registered in ``shared.integrations.callback``: exchanges the code for the
  tokens and stores them with the realmId (``connections.save_connection``, encrypted);
* :func:`api` -- the accounting API of the tenant's company with a valid access token
  (refreshed ahead of expiry under the connection's lock; ``invalid_grant`` disconnects);
* :func:`set_item` -- the service item and rate completed appointments are invoiced as
  (``details.item_id``, ``details.rate`` on the connection; Settings or ``scripts/ops``);
* :func:`disconnect` -- from our Settings or ``scripts/ops``: revoke at Intuit, delete the tokens;
  :func:`disconnected_at_intuit` -- Intuit's disconnect URL or webhook: delete the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from shared.accounts import audit
from shared.integrations import connections
from shared.integrations.connections import GrantRevoked, IntegrationError, PendingFlow, Tokens
from shared.ports import Ports
from shared.providers import intuit

PROVIDER = "quickbooks"
MAX_RATE = 100000.0


def start(ports: Ports, *, tenant_id: str, user_id: str | None, binding: str) -> str:
    state = connections.start_flow(ports, tenant_id=tenant_id, provider=PROVIDER, user_id=user_id, binding=binding)
    return intuit.authorize_url(ports.settings, state)


def _tokens(ports: Ports, answer: dict[str, Any]) -> Tokens:
    now = ports.clock().now()
    return Tokens(answer["access_token"], answer["refresh_token"], intuit.expiry(now, answer["expires_in"]),
                  intuit.expiry(now, answer["x_refresh_token_expires_in"]))


def complete(ports: Ports, flow: PendingFlow, args: Mapping[str, str]) -> dict[str, Any]:
    code, realm_id = args.get("code"), args.get("realmId")
    if not code or not realm_id or not realm_id.isdigit() or len(realm_id) > 32:
        raise IntegrationError("the callback needs code and a numeric realmId")
    try:
        answer = intuit.exchange_code(ports.settings, code, realm_id)
    except (intuit.GrantRefused, intuit.IntuitError):
        raise IntegrationError("QuickBooks refused the authorization code; connect again") from None
    return connections.save_connection(ports, flow, _tokens(ports, answer), account_id=realm_id)


def _refresh(ports: Ports) -> Callable[[Tokens], Tokens]:
    def refresh(old: Tokens) -> Tokens:
        try:
            return _tokens(ports, intuit.refresh(ports.settings, old.refresh_token))
        except intuit.GrantRefused:
            raise GrantRevoked() from None

    return refresh


def api(ports: Ports, tenant_id: str, *, force_refresh: bool = False) -> intuit.Accounting:
    """The tenant's company, ready to call (``NotConnected`` when it is not connected)."""
    data = connections.live(ports, tenant_id, PROVIDER)
    token = connections.access_token(ports, tenant_id, PROVIDER, refresh=_refresh(ports), force=force_refresh)
    return intuit.Accounting(ports.settings, data["account_id"], token)


def call(ports: Ports, tenant_id: str, fn: Callable[[intuit.Accounting], Any]) -> Any:
    """``fn(api)``, once more with a refreshed token when Intuit answers 401."""
    try:
        return fn(api(ports, tenant_id))
    except intuit.IntuitError as exc:
        if not exc.unauthorized:
            raise
    return fn(api(ports, tenant_id, force_refresh=True))


MAX_ITEMS = 100  # one query: a small business's services fit (QuickBooks lists active items)


@dataclass(frozen=True)
class ServiceItem:
    id: str
    name: str
    unit_price: float | None


def service_items(ports: Ports, tenant_id: str) -> list[ServiceItem]:
    """The company's active service items, by name (one query; what Settings offers to invoice
    with). ``NotConnected`` when QuickBooks is not connected; Intuit down -> ``IntuitUnavailable``."""
    rows = call(ports, tenant_id, lambda api: api.query(
        f"select * from Item where Type = 'Service' maxresults {MAX_ITEMS}"))
    found = [ServiceItem(str(r["Id"]), str(r.get("Name") or r["Id"]),
                         float(r["UnitPrice"]) if r.get("UnitPrice") is not None else None)
             for r in rows if r.get("Id") and r.get("Active", True)]
    return sorted(found, key=lambda item: item.name.lower())


def set_item(ports: Ports, tenant_id: str, *, item_id: str, rate: float, actor_user_id: str | None) -> dict[str, Any]:
    """Invoice completed appointments as QuickBooks item ``item_id`` at ``rate`` (dollars, 0 to
    :data:`MAX_RATE`); :class:`~shared.integrations.connections.NotConnected` when QuickBooks is
    not connected, :class:`IntegrationError` when the company has no such active service item
    (asked of Intuit: an invoice naming a missing item would be refused at every appointment).
    Audited with who. Returns the public connection."""
    if not item_id.isdigit() or len(item_id) > 32:
        raise IntegrationError("the item id is a QuickBooks item's number")
    if not 0 <= rate <= MAX_RATE:
        raise IntegrationError(f"the rate must be between 0 and {MAX_RATE:.0f}")
    connections.live(ports, tenant_id, PROVIDER)
    if item_id not in {item.id for item in service_items(ports, tenant_id)}:
        raise IntegrationError("QuickBooks has no active service item with that id")
    rate = round(float(rate), 2)
    ports.store().update(connections.connection_path(tenant_id, PROVIDER),
                         {"details.item_id": item_id, "details.rate": rate})
    audit.record(ports.store(), ports.clock().now(), tenant_id=tenant_id, action="integration.quickbooks_item",
                 actor_user_id=actor_user_id, target=PROVIDER, changes={"item_id": item_id, "rate": rate})
    return connections.get(ports, tenant_id, PROVIDER) or {}


def disconnect(ports: Ports, tenant_id: str, *, actor_user_id: str | None, reason: str = "settings") -> bool:
    """Our side's disconnect: revoke the grant at Intuit (down -> raises, nothing deleted), then
    delete the tokens and audit who did it."""
    return connections.disconnect(ports, tenant_id, PROVIDER, actor_user_id=actor_user_id, reason=reason,
                                  revoke=lambda tokens: intuit.revoke(ports.settings, tokens.refresh_token))


def disconnected_at_intuit(ports: Ports, realm_id: str) -> list[str]:
    """The company was disconnected inside QuickBooks: forget its tokens for every tenant
    connected to it (normally one). Returns those tenant ids."""
    tenants = connections.find_by_account(ports, PROVIDER, realm_id)
    for tenant_id in tenants:
        connections.disconnect(ports, tenant_id, PROVIDER, actor_user_id=None, reason="provider")
    return tenants
