"""A business's CRM webhook endpoints: ``tenants/{t}/crm_endpoints/{endpoint_id}``.

Each endpoint holds its URL (checked by :func:`shared.crm.urls.check_url`), the events it takes
(:data:`EVENT_TYPES`), whether it is enabled (and why not), its health (``failing_since``: the
first failed attempt with no success after it, which :mod:`shared.crm.delivery` uses to disable
an endpoint that has failed for 24 hours) and its Standard Webhooks secret, encrypted with the
Cipher port (:mod:`shared.crm.setup`, which adds endpoints; kept apart so that the functions
that only fan events out hold no KMS grant).
Every change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from shared.accounts import audit
from shared.errors import InvalidInput
from shared.ports import Ports
from shared.tenants import TenantScope

EventType = Literal["call.completed", "appointment.booked", "message.received", "voicemail.left"]
EVENT_TYPES: tuple[str, ...] = ("call.completed", "appointment.booked", "message.received", "voicemail.left")
TEST_EVENT = "webhook.test"
ENDPOINTS = "crm_endpoints"
MAX_ENDPOINTS = 10


class UnknownEndpoint(LookupError):
    pass


@dataclass(frozen=True)
class Endpoint:
    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    description: str = ""
    disabled_reason: str | None = None
    failing_since: dt.datetime | None = None
    created_at: dt.datetime | None = None

    @classmethod
    def from_doc(cls, tenant_id: str, doc: dict[str, Any]) -> "Endpoint":
        return cls(id=doc["id"], tenant_id=tenant_id, url=doc["url"], events=tuple(doc.get("events") or ()),
                   enabled=bool(doc.get("enabled")), description=doc.get("description") or "",
                   disabled_reason=doc.get("disabled_reason"), failing_since=doc.get("failing_since"),
                   created_at=doc.get("created_at"))

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": list(self.events), "enabled": self.enabled,
                "description": self.description, "disabled_reason": self.disabled_reason,
                "failing_since": self.failing_since, "created_at": self.created_at}


def development(ports: Ports) -> bool:
    return ports.settings.development


def check_events(events: list[str] | tuple[str, ...]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown or not chosen:
        raise InvalidInput("choose events among " + ", ".join(EVENT_TYPES))
    return chosen


def list_endpoints(ports: Ports, tenant_id: str) -> list[Endpoint]:
    scope = TenantScope(ports.store(), tenant_id)
    scope.tenant()
    docs = scope.query(scope.collection(ENDPOINTS))
    return sorted((Endpoint.from_doc(tenant_id, d.data) for d in docs),
                  key=lambda e: (e.created_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc), e.id), reverse=True)


def get_endpoint(ports: Ports, tenant_id: str, endpoint_id: str) -> Endpoint:
    try:
        doc = TenantScope(ports.store(), tenant_id).get(f"{ENDPOINTS}/{endpoint_id}")
    except ValueError:  # not an id
        doc = None
    if doc is None:
        raise UnknownEndpoint(f"no CRM endpoint {endpoint_id}")
    return Endpoint.from_doc(tenant_id, doc)


def set_enabled(ports: Ports, tenant_id: str, endpoint_id: str, enabled: bool, *, reason: str | None = None,
                actor_user_id: str | None = None) -> Endpoint:
    """Enable (health reset) or disable an endpoint; the audit log says who (None: the system)."""
    get_endpoint(ports, tenant_id, endpoint_id)
    now = ports.clock().now()
    patch: dict[str, Any] = ({"enabled": True, "disabled_reason": None, "disabled_at": None, "failing_since": None}
                             if enabled else {"enabled": False, "disabled_reason": reason or "disabled by the business",
                                              "disabled_at": now})
    TenantScope(ports.store(), tenant_id).update(f"{ENDPOINTS}/{endpoint_id}", patch)
    audit.record(ports.store(), now, tenant_id=tenant_id, action="crm_endpoint." + ("enabled" if enabled else "disabled"),
                 actor_user_id=actor_user_id, target=endpoint_id, changes={"reason": patch.get("disabled_reason")})
    return get_endpoint(ports, tenant_id, endpoint_id)


def set_events(ports: Ports, tenant_id: str, endpoint_id: str, events: list[str] | tuple[str, ...], *,
               actor_user_id: str | None = None) -> Endpoint:
    """Change the events an endpoint takes (among :data:`EVENT_TYPES`, at least one); audited."""
    get_endpoint(ports, tenant_id, endpoint_id)
    chosen = check_events(events)
    TenantScope(ports.store(), tenant_id).update(f"{ENDPOINTS}/{endpoint_id}", {"events": chosen})
    audit.record(ports.store(), ports.clock().now(), tenant_id=tenant_id, action="crm_endpoint.events_changed",
                 actor_user_id=actor_user_id, target=endpoint_id, changes={"events": chosen})
    return get_endpoint(ports, tenant_id, endpoint_id)


def remove_endpoint(ports: Ports, tenant_id: str, endpoint_id: str, *, actor_user_id: str | None = None) -> None:
    get_endpoint(ports, tenant_id, endpoint_id)
    TenantScope(ports.store(), tenant_id).delete(f"{ENDPOINTS}/{endpoint_id}")
    audit.record(ports.store(), ports.clock().now(), tenant_id=tenant_id, action="crm_endpoint.removed",
                 actor_user_id=actor_user_id, target=endpoint_id)
