"""QuickBooks' webhooks (``quickbooks_webhook``), after the signature check.

Both formats Intuit sends are read:

* legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
  "operation", "lastUpdated"}]}}]}``;
* CloudEvents: a JSON array of ``{"specversion": "1.0", "id", "type": "qbo.customer.updated.v1",
  "intuitaccountid": <realmId>, "intuitentityid", "time", ...}``.

Each notification is deduplicated (CloudEvents ``id``; legacy: realm, entity, id, operation and
lastUpdated) and, when it names a Customer, queues one ``changes`` task per connected tenant of
that realm (named: a repeated notification queues nothing twice). The task pulls the changes
(CDC), so a webhook answers within Intuit's few seconds and a forged-but-valid-looking realm
learns nothing. Other entities are acknowledged. Intuit retries a non-2xx: a store that is down
answers 503.
"""

from __future__ import annotations

from typing import Any

from shared.errors import InvalidInput
from shared.integrations import connections
from shared.ports import Ports
from shared.quickbooks import connect
from shared.quickbooks.tasks import SyncRequest, queue


def notifications(body: Any) -> list[tuple[str, str, str]]:
    """(event key, realmId, entity name) of every change the body reports; InvalidInput otherwise."""
    found: list[tuple[str, str, str]] = []
    if isinstance(body, dict) and isinstance(body.get("eventNotifications"), list):
        for note in body["eventNotifications"]:
            realm = str((note or {}).get("realmId") or "") if isinstance(note, dict) else ""
            entities = ((note.get("dataChangeEvent") or {}).get("entities") or []) if realm else None
            if not realm or not isinstance(entities, list):
                raise InvalidInput("eventNotifications entry without realmId or entities")
            for entity in entities:
                if not isinstance(entity, dict) or not entity.get("name"):
                    raise InvalidInput("entity without a name")
                key = "|".join(str(entity.get(k, "")) for k in ("name", "id", "operation", "lastUpdated"))
                found.append((f"{realm}|{key}", realm, str(entity["name"])))
        return found
    if isinstance(body, list):
        for event in body:
            if not isinstance(event, dict) or not event.get("id") or not event.get("intuitaccountid"):
                raise InvalidInput("CloudEvent without id or intuitaccountid")
            kind = str(event.get("type") or "")  # qbo.customer.updated.v1
            parts = kind.split(".")
            name = parts[1].capitalize() if len(parts) >= 3 and parts[0] == "qbo" else ""
            found.append((str(event["id"]), str(event["intuitaccountid"]), name))
        return found
    raise InvalidInput("body is neither eventNotifications nor a CloudEvents array")


def apply(ports: Ports, body: Any) -> dict[str, int]:
    queued = seen = 0
    for key, realm, entity in notifications(body):
        if entity != "Customer":
            continue
        seen += 1
        for tenant_id in connections.find_by_account(ports, connect.PROVIDER, realm):
            queued += queue(ports, SyncRequest(tenant_id=tenant_id, kind="changes"), key=key)
    return {"customer_changes": seen, "queued": queued}


def disconnect_notice(ports: Ports, realm_id: str | None) -> int:
    """Intuit's Disconnect URL (the user disconnected inside QuickBooks; the request is not
    signed): we do not take the realmId's word for it -- each connected tenant of that realm
    refreshes its token, and the first ``invalid_grant`` disconnects it (tokens deleted, audit,
    owner emailed). A forged notice costs one token rotation. Returns tenants disconnected."""
    if not realm_id or not realm_id.isdigit() or len(realm_id) > 32:
        raise InvalidInput("realmId must be numeric")
    gone = 0
    for tenant_id in connections.find_by_account(ports, connect.PROVIDER, realm_id):
        try:
            connect.api(ports, tenant_id, force_refresh=True)
        except connections.NotConnected:
            gone += 1
    return gone
