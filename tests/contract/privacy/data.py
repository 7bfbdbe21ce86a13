"""A business for the privacy tests (deletion, export): two callers' calls with a recording at
Twilio, ours and Retell's call, texts, contacts, appointments, consent, a user with a session
and the global indexes; and the ports that reach the Twilio and Retell sandboxes."""

from __future__ import annotations

import uuid

from shared import consent, tenants
from shared.accounts import sessions
from shared.ports import Query
from shared.providers import retell
from shared.runtime import Ports
from shared.tenants import TenantScope
from shared.voice.ingest import blob_path

CALLER, OTHER = "+17205550111", "+17205550112"


def business(p: Ports, sandboxes, tenant_id: str, number: str) -> dict[str, list[str]]:
    """A business with two callers' calls (a recording at Twilio, ours, Retell's call), texts,
    contacts, an appointment, consent, a user with a session, and the global indexes."""
    twilio, _ = sandboxes
    store, now = p.store(), p.clock().now()
    tenants.create_tenant(store, tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana",
                          contact_email=f"{tenant_id}@sunrise.example", numbers=[number])
    scope = TenantScope(store, tenant_id)
    made: dict[str, list[str]] = {"recordings": [], "retell": []}
    for n, caller in enumerate([CALLER, CALLER, OTHER]):
        sid = f"CA{uuid.uuid4().hex}"
        rec = twilio.add_recording(call_sid=sid)
        retell_id = retell.register_call(p.settings, agent_id="agent_1", from_number=caller, to_number=number,
                                         metadata={"tenant_id": tenant_id, "call_sid": sid}, dynamic_variables={})
        blob = blob_path(tenant_id, sid, rec)
        p.blobs().put(blob, b"RIFF", content_type="audio/wav")
        scope.set(f"calls/{sid}", {"call_sid": sid, "from": caller, "to": number, "created_at": now,
                                   "retell_call_id": retell_id, "transcript": "hello",
                                   "recordings": [{"recording_sid": rec, "source": "twilio", "blob_path": blob}]})
        scope.set(f"call_facts/{sid}", {"call_sid": sid, "from": caller})
        store.set(f"retell_calls/{retell_id}", {"tenant_id": tenant_id, "call_sid": sid})
        scope.set(f"appointments/ap{n}", {"customer_phone": caller, "call_sid": sid, "start": now})
        if caller == CALLER:
            made["recordings"].append(rec)
            made["retell"].append(retell_id)
        made.setdefault(caller, []).extend([f"tenants/{tenant_id}/calls/{sid}", f"tenants/{tenant_id}/call_facts/{sid}",
                                            f"tenants/{tenant_id}/appointments/ap{n}", blob])
    for n, caller in enumerate([CALLER, OTHER]):
        scope.set(f"messages/SM{n}", {"from": caller, "to": number, "body": "hi", "expire_at": now})
        scope.set(f"contacts/{caller}", {"name": "Pat", "phone": caller})
        made[caller] += [f"tenants/{tenant_id}/messages/SM{n}", f"tenants/{tenant_id}/contacts/{caller}"]
        consent.record_sms_consent(scope, caller, call_id="CA_c", disclosure="May we text you?", now=now)
    owner = next(iter(store.stream(Query(f"tenants/{tenant_id}/users"))))
    sessions.create(store, now, tenant_id=tenant_id, user_id=owner.id, role="owner")
    store.set(f"email_messages/re_{uuid.uuid4().hex[:8]}", {"tenant_id": tenant_id, "email_id": "em1"})
    return made
