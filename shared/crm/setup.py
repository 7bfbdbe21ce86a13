"""Adding a CRM endpoint and opening its signing secret: the only CRM code that uses the Cipher
port. The secret (``whsec_...``) is sealed under a context naming the tenant and the endpoint;
the plain secret is returned once, by :func:`add_endpoint`, for the business to paste into its
CRM; nothing shows it again."""

from __future__ import annotations

import base64
import hashlib
import re

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


REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _endpoint_id(tenant_id: str, request_id: str | None) -> str:
    if request_id is None:
        return new_id("we")
    if not REQUEST_ID.match(request_id):
        raise InvalidInput("request_id: 16 to 64 letters, digits, _ or -")
    return "we_" + hashlib.sha256(f"{tenant_id}:{request_id}".encode()).hexdigest()[:16]


def add_endpoint(ports: Ports, tenant_id: str, *, url: str, events: list[str] | tuple[str, ...],
                 description: str = "", actor_user_id: str | None = None,
                 request_id: str | None = None) -> tuple[Endpoint, str | None]:
    """Create an enabled endpoint; returns it and its plain secret (shown to the business once).
    ``request_id`` (the form's or the API client's idempotency key) makes a repeat -- a reloaded
    page, a retried request -- answer the endpoint it made, with no secret (None): it was shown
    once, and no second endpoint or secret is made."""
    check_url(url, development=development(ports))
    chosen = check_events(events)
    scope = TenantScope(ports.store(), tenant_id)
    scope.tenant()  # UnknownTenant
    endpoint_id = _endpoint_id(tenant_id, request_id)
    earlier = scope.get(f"{ENDPOINTS}/{endpoint_id}") if request_id is not None else None
    if earlier is not None:
        return Endpoint.from_doc(tenant_id, earlier), None
    if len(scope.query(scope.collection(ENDPOINTS))) >= MAX_ENDPOINTS:
        raise InvalidInput(f"a business has at most {MAX_ENDPOINTS} CRM endpoints")
    secret = new_secret()
    sealed = ports.cipher().encrypt(secret.encode(), secret_context(tenant_id, endpoint_id))
    now = ports.clock().now()
    doc = {"id": endpoint_id, "url": url.strip(), "events": chosen, "description": description[:200],
           "enabled": True, "disabled_reason": None, "disabled_at": None, "failing_since": None,
           "last_success_at": None, "secret_enc": base64.b64encode(sealed).decode("ascii"), "created_at": now,
           "created_by": actor_user_id}
    if not scope.create(f"{ENDPOINTS}/{endpoint_id}", doc):  # the same request, a moment earlier
        return Endpoint.from_doc(tenant_id, scope.get(f"{ENDPOINTS}/{endpoint_id}") or doc), None
    audit.record(ports.store(), now, tenant_id=tenant_id, action="crm_endpoint.added", actor_user_id=actor_user_id,
                 target=endpoint_id, changes={"events": chosen})
    return Endpoint.from_doc(tenant_id, doc), secret


def endpoint_secret(ports: Ports, tenant_id: str, endpoint_id: str) -> str:
    doc = TenantScope(ports.store(), tenant_id).get(f"{ENDPOINTS}/{endpoint_id}")
    if doc is None:
        raise UnknownEndpoint(f"no CRM endpoint {endpoint_id}")
    sealed = base64.b64decode(doc["secret_enc"])
    return ports.cipher().decrypt(sealed, secret_context(tenant_id, endpoint_id)).decode()
