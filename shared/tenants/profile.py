"""A business's profile: its name, contact, postal address and time zone.

Changed by owners and admins (``business.update``); each change is one transaction over the
tenant document (read, validate the whole profile with :class:`~shared.models.tenant.Tenant`,
write only what changed) and one audit entry naming the fields with their old and new values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from shared.accounts import audit
from shared.accounts.errors import InvalidInput, NotFound
from shared.models.tenant import Tenant
from shared.ports import DocumentStore
from shared.tenants import TenantScope

FIELDS = ("name", "contact", "address", "time_zone")


def get(store: DocumentStore, tenant_id: str) -> Tenant:
    data = store.get(TenantScope(store, tenant_id).root)
    if data is None:
        raise NotFound()
    return Tenant.from_doc(data)


def update(store: DocumentStore, now: dt.datetime, *, tenant_id: str, actor_user_id: str, changes: dict[str, Any],
           ip: str = "", user_agent: str = "") -> Tenant:
    """Apply ``changes`` (``name``, ``contact`` / ``address`` as partial maps, ``time_zone``)."""
    path = TenantScope(store, tenant_id).root

    def run(tx) -> tuple[Tenant, dict[str, Any]]:
        current = tx.get(path)
        if current is None:
            raise NotFound()
        tenant = Tenant.from_doc(current)
        merged = tenant.to_doc()
        for key in FIELDS:
            if key in changes:
                value = changes[key]
                merged[key] = {**merged[key], **value} if isinstance(value, dict) else value
        try:
            updated = Tenant.from_doc(merged)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise InvalidInput(f"{field}: {error['msg']}", field=field) from None
        before, after = tenant.to_doc(), updated.to_doc()
        diff = {key: [before[key], after[key]] for key in FIELDS if before[key] != after[key]}
        if diff:
            tx.update(path, {**{key: after[key] for key in diff}, "updated_at": now})
        return updated, diff

    updated, diff = store.transaction(run)
    if diff:
        audit.record(store, now, tenant_id=tenant_id, action="business.updated", actor_user_id=actor_user_id, ip=ip,
                     user_agent=user_agent, changes=diff)
    return updated
