"""Telling owners that the privacy policy or the terms changed (``scripts/ops policy announce``).

When configuration names a new version (``Z3_POLICY_VERSION`` / ``Z3_TERMS_VERSION``), every
active owner of a business that has not accepted the current versions is emailed once, and asked
to accept at the next sign-in (``shared.accounts.policy.needs_acceptance``; that gate exists
whether or not the email arrives).

Once per owner and version pair: the notify task is named after tenant, owner and both versions
(a second run within Cloud Tasks' dedup window queues nothing), and ``policy_notices/{versions}``
under the owner's business records who was told, so a run days later skips them too. The mark
is written after the task is queued: a crash in between queues the same named task again, never
a second email for a run inside the dedup window; after it, at worst one repeat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.accounts import policy
from shared.models.tenant import Role
from shared.notifications import notify_business
from shared.ports import Document, Ports, Query
from shared.tenants import TenantScope

CLOSED = frozenset({"closed", "flagged_for_deletion"})


@dataclass(frozen=True)
class Announced:
    emailed: int
    already_told: int
    businesses: int


def versions_key(settings) -> str:
    versions = policy.current(settings)
    return hashlib.sha256(f"{versions['policy']}|{versions['terms']}".encode()).hexdigest()[:16]


def announce(ports: Ports, *, tenant_id: str | None = None) -> Announced:
    """Email every owner not yet told of the current versions (of one business with ``tenant_id``)."""
    store, settings, now = ports.store(), ports.settings, ports.clock().now()
    action_url = f"{settings.public_base_url.rstrip('/')}/app/signin"
    versions, key = policy.current(settings), versions_key(settings)
    emailed = already = businesses = 0
    if tenant_id is None:
        found = store.stream(Query("tenants"))
    else:
        found = [d for d in [Document(f"tenants/{tenant_id}", store.get(f"tenants/{tenant_id}"))] if d.data is not None]
    for tenant in found:
        if tenant.data.get("status") in CLOSED or not policy.needs_acceptance(store, tenant.id, settings):
            continue
        businesses += 1
        scope = TenantScope(store, tenant.id)
        for owner in scope.query(scope.collection("users").where("role", "==", Role.owner.value)):
            if owner.data.get("status") != "active":
                continue
            mark = f"policy_notices/{key}-{owner.id}"
            if scope.get(mark) is not None:
                already += 1
                continue
            notify_business(ports, tenant_id=tenant.id, template="policy_update", to_user_id=owner.id,
                            dedup_key=f"policy:{tenant.id}:{owner.id}:{versions['policy']}:{versions['terms']}",
                            context={"policy_version": versions["policy"], "terms_version": versions["terms"],
                                     "business_name": tenant.data.get("name", ""), "action_url": action_url})
            scope.set(mark, {"user_id": owner.id, "policy_version": versions["policy"],
                             "terms_version": versions["terms"], "notified_at": now})
            emailed += 1
    return Announced(emailed, already, businesses)
