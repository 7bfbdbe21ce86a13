"""Which versions of the privacy policy and the terms a business accepted.

Every acceptance is a record of its own (``tenants/{t}/policy_acceptances/{id}``: versions,
time, user, IP, user agent), and the tenant document keeps the latest versions accepted
(``accepted_versions``). When configuration names a newer version (``Z3_POLICY_VERSION``,
``Z3_TERMS_VERSION``) an owner is asked to accept at the next sign-in, before the dashboard
opens, and that acceptance is recorded the same way.
"""

from __future__ import annotations

import datetime as dt
import secrets

from shared.config import Settings
from shared.ports import DocumentStore


def current(settings: Settings) -> dict[str, str]:
    return {"policy": settings.z3_policy_version, "terms": settings.z3_terms_version}


def record_acceptance(store: DocumentStore, now: dt.datetime, *, tenant_id: str, user_id: str, ip: str,
                      user_agent: str, settings: Settings) -> None:
    versions = current(settings)
    entry = f"p_{now.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(4)}"
    store.set(f"tenants/{tenant_id}/policy_acceptances/{entry}",
              {"policy_version": versions["policy"], "terms_version": versions["terms"], "accepted_at": now,
               "user_id": user_id, "ip": ip, "user_agent": user_agent[:300]})
    store.update(f"tenants/{tenant_id}", {"accepted_versions": versions})


def needs_acceptance(store: DocumentStore, tenant_id: str, settings: Settings) -> bool:
    tenant = store.get(f"tenants/{tenant_id}") or {}
    return tenant.get("accepted_versions") != current(settings)
