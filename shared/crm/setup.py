"""Adding a CRM endpoint and opening its signing secret: the only CRM code that uses the Cipher
port. The secret (``whsec_...``) is sealed under a context naming the tenant and the endpoint;
the plain secret is returned once, by :func:`add_endpoint`, for the business to paste into its
CRM; nothing shows it again."""

from __future__ import annotations

import base64

from shared.accounts import audit
from shared.crm.endpoints import ENDPOINTS, MAX_ENDPOINTS, Endpoint, UnknownEndpoint, check_events, development
from shared.crm.signing import new_secret
from shared.crm.urls import check_url
from shared.errors import InvalidInput
from shared.models.base import new_id
from shared.ports import Ports
from shared.tenants import TenantScope


def secret_context(tenant_id: str, endpoint_id: str) -> str:
    return f"crm_endpoint:{tenant_id}:{endpoint_id}"


def add_endpoint(ports: Ports, tenant_id: str, *, url: str, events: list[str] | tuple[str, ...],
                 description: str = "", actor_user_id: str | None = None) -> tuple[Endpoint, str]:
    """Create an enabled endpoint; returns it and its plain secret (shown to the business once)."""
    check_url(url, development=development(ports))
    chosen = check_events(events)
    scope = TenantScope(ports.store(), tenant_id)
    scope.tenant()  # UnknownTenant
    if len(scope.query(scope.collection(ENDPOINTS))) >= MAX_ENDPOINTS:
        raise InvalidInput(f"a business has at most {MAX_ENDPOINTS} CRM endpoints")
    endpoint_id = new_id("we")
    secret = new_secret()
    sealed = ports.cipher().encrypt(secret.encode(), secret_context(tenant_id, endpoint_id))
    now = ports.clock().now()
    doc = {"id": endpoint_id, "url": url.strip(), "events": chosen, "description": description[:200],
           "enabled": True, "disabled_reason": None, "disabled_at": None, "failing_since": None,
           "last_success_at": None, "secret_enc": base64.b64encode(sealed).decode("ascii"), "created_at": now,
           "created_by": actor_user_id}
    scope.create(f"{ENDPOINTS}/{endpoint_id}", doc)
    audit.record(ports.store(), now, tenant_id=tenant_id, action="crm_endpoint.added", actor_user_id=actor_user_id,
                 target=endpoint_id, changes={"events": chosen})
    return Endpoint.from_doc(tenant_id, doc), secret


def endpoint_secret(ports: Ports, tenant_id: str, endpoint_id: str) -> str:
    doc = TenantScope(ports.store(), tenant_id).get(f"{ENDPOINTS}/{endpoint_id}")
    if doc is None:
        raise UnknownEndpoint(f"no CRM endpoint {endpoint_id}")
    sealed = base64.b64decode(doc["secret_enc"])
    return ports.cipher().decrypt(sealed, secret_context(tenant_id, endpoint_id)).decode()
