"""Edits made inside QuickBooks reach our contacts: Change Data Capture of Customers since the
last pull (``details.cdc_since`` on the connection; first pull: since it connected, at most
the 30 days CDC serves). A changed customer we know (``quickbooks_customers/{id}``) updates its
contact's name and email and our stored SyncToken; customers we never synced are not copied in
(we keep QuickBooks ids for the people who called, not the business's whole customer list)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable

from shared.integrations import connections
from shared.providers import intuit
from shared.ports import Ports
from shared.quickbooks import connect
from shared.quickbooks.sync import CUSTOMERS, SyncRefused, with_backoff
from shared.tenants import TenantScope
from shared.voice.contacts import contact_path

CDC_MAX = dt.timedelta(days=30)


def pull_changes(ports: Ports, tenant_id: str, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """Apply the Customers changed since the last pull; returns how many contacts it updated.
    Intuit refusing the pull for good -> :class:`SyncRefused`."""
    data = connections.live(ports, tenant_id, connect.PROVIDER)
    now = ports.clock().now()
    since = (data.get("details") or {}).get("cdc_since") or data.get("connected_at") or now - CDC_MAX
    since = max(since, now - CDC_MAX + dt.timedelta(minutes=1))

    def run(api: intuit.Accounting) -> dict[str, Any]:
        return api.request("GET", "cdc", params={"entities": "Customer", "changedSince": since.isoformat()})

    try:
        answer = with_backoff(lambda: connect.call(ports, tenant_id, run), sleep)
    except intuit.IntuitError as exc:
        raise SyncRefused(exc.status, exc.code) from None
    changed: list[dict[str, Any]] = []
    for block in answer.get("CDCResponse") or []:
        for response in block.get("QueryResponse") or []:
            changed.extend(response.get("Customer") or [])
    scope = TenantScope(ports.store(), tenant_id)
    updated = 0
    for customer in changed:
        known = scope.get(f"{CUSTOMERS}/{customer.get('Id')}")
        if not known or not known.get("phone"):
            continue
        fields: dict[str, Any] = {"quickbooks": {"customer_id": customer["Id"], "sync_token": customer.get("SyncToken"),
                                                 "synced_at": now}, "updated_at": now}
        if customer.get("DisplayName"):
            fields["name"] = customer["DisplayName"][:200]
        email = (customer.get("PrimaryEmailAddr") or {}).get("Address")
        if email:
            fields["email"] = email
        scope.set(contact_path(known["phone"]), fields, merge=True)
        updated += 1
    ports.store().update(connections.connection_path(tenant_id, connect.PROVIDER), {"details.cdc_since": now})
    return updated
