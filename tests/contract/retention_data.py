"""A small business history for the retention properties: three tenants, each document's fate
known in advance (what the policy deletes, strips, or keeps, and what a hold keeps)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared import consent, tenants
from shared.accounts import audit
from shared.privacy import holds
from shared.ports import Query
from shared.runtime import Ports
from shared.tenants import TenantScope
from shared.voice.ingest import blob_path

AS_OF = dt.datetime(2027, 6, 1, tzinfo=dt.timezone.utc)  # midnight: the daily run's time
DAY = dt.timedelta(days=1)
CALLER, HELD_CALLER, OTHER = "+17205550101", "+17205550102", "+17205550103"


@dataclass
class Expect:
    gone: set[str] = field(default_factory=set)  # documents and blobs the sweep deletes
    kept: set[str] = field(default_factory=set)  # documents and blobs it must leave
    stripped: set[str] = field(default_factory=set)  # calls whose recordings go, the call stays
    cleared: set[str] = field(default_factory=set)  # calls whose transcript goes, the call stays


def _call(ports: Ports, expect: Expect, tenant_id: str, sid: str, age_days: int, fate: str, *,
          caller: str = CALLER) -> None:
    created = AS_OF - age_days * DAY
    blob = blob_path(tenant_id, sid, "RE" + sid[2:])
    ports.blobs().put(blob, b"RIFF" + sid.encode(), content_type="audio/wav")
    doc = f"tenants/{tenant_id}/calls/{sid}"
    ports.store().set(doc, {"call_sid": sid, "from": caller, "to": "+13035550100", "created_at": created,
                            "transcript": "Agent: hello", "summary": "asked for a quote", "extracted_data": None,
                            "recordings": [{"recording_sid": "RE" + sid[2:], "source": "twilio", "blob_path": blob,
                                            "size": 10, "sha256": "0" * 64}]})
    facts = f"tenants/{tenant_id}/call_facts/{sid}"
    ports.store().set(facts, {"call_sid": sid, "from": caller, "expire_at": created + 30 * DAY})
    if fate == "delete":
        expect.gone |= {doc, facts, blob}
    elif fate == "recordings":
        expect.gone.add(blob)
        expect.kept |= {doc, facts}
        expect.stripped.add(doc)
    elif fate == "transcript":
        expect.kept |= {doc, facts, blob}
        expect.cleared.add(doc)
    else:
        expect.kept |= {doc, facts, blob}


def _doc(ports: Ports, expect: Expect, path: str, expire_in_days: int | None, *, kept: bool | None = None,
         **data) -> None:
    if expire_in_days is not None:
        data["expire_at"] = AS_OF + expire_in_days * DAY
    ports.store().set(path, data)
    gone = expire_in_days is not None and expire_in_days <= 0 if kept is None else not kept
    (expect.gone if gone else expect.kept).add(path)


def _chain(ports: Ports, expect: Expect, tenant_id: str, number: str, age_days: int, *, kept: bool) -> None:
    scope = TenantScope(ports.store(), tenant_id)
    at = AS_OF - age_days * DAY
    consent.record_sms_consent(scope, number, call_id="CA_consent_" + number[-4:], disclosure="May we text you?",
                               now=at)
    consent.record_sms_revocation(scope, number, call_id="CA_revoke_" + number[-4:], now=at + DAY)
    root = f"tenants/{tenant_id}/consent/{number}"
    paths = {root, f"{root}/events/{1:08d}", f"{root}/events/{2:08d}"}
    (expect.kept if kept else expect.gone).update(paths)


def seed(ports: Ports, prefix: str) -> tuple[list[str], Expect]:
    """Three tenants named ``{prefix}a|b|c``; returns their ids and what the sweep must do."""
    store, expect = ports.store(), Expect()
    ids = [f"{prefix}a", f"{prefix}b", f"{prefix}c"]
    for tid in ids:
        tenants.create_tenant(store, tenant_id=tid, name="Sunrise Plumbing", contact_name="Dana",
                              contact_email=f"{tid}@sunrise.example", owner=False)
    a, b, c = ids
    # a: recordings 30 days, transcripts 180 days
    store.update(f"tenants/{a}", {"settings.recording_retention_days": 30, "settings.transcript_retention_days": 180})
    for n, (age, fate) in enumerate([(400, "delete"), (200, "delete"), (60, "recordings"), (45, "recordings"),
                                     (5, "none"), (29, "none")]):
        _call(ports, expect, a, f"CA{a}{n:04d}", age, fate)
    for n, days in enumerate([-30, -1, 0, 1, 200]):
        _doc(ports, expect, f"tenants/{a}/messages/SM{n:04d}", days, **{"from": CALLER, "to": "+13035550100",
                                                                        "body": "hi"})
        _doc(ports, expect, f"tenants/{a}/emails/em{n:04d}", days + 5, kind="call_summary")
        _doc(ports, expect, f"tenants/{a}/audit/a{n:04d}", days - 3, action="signin.succeeded")
    _doc(ports, expect, f"tenants/{a}/contacts/{CALLER}", None, name="Pat", phone=CALLER)
    _chain(ports, expect, a, CALLER, 6 * 366, kept=False)  # 5 years past its last event
    _chain(ports, expect, a, OTHER, 4 * 365, kept=True)
    # b: recordings a year, transcripts 30 days; a hold on one caller's number and one call
    store.update(f"tenants/{b}", {"settings.recording_retention_days": 365, "settings.transcript_retention_days": 30})
    _call(ports, expect, b, f"CA{b}0001", 60, "transcript")
    _call(ports, expect, b, f"CA{b}0002", 500, "delete")
    _call(ports, expect, b, f"CA{b}0003", 500, "hold", caller=HELD_CALLER)
    _call(ports, expect, b, f"CA{b}0004", 500, "hold", caller=OTHER)
    _doc(ports, expect, f"tenants/{b}/messages/SMheld", -10, kept=True, **{"from": HELD_CALLER, "body": "x"})
    _doc(ports, expect, f"tenants/{b}/messages/SMgone", -10, **{"from": OTHER, "body": "y"})
    _chain(ports, expect, b, HELD_CALLER, 6 * 366, kept=True)
    holds.place(store, AS_OF - 3 * DAY, tenant_id=b, kind="number", target=HELD_CALLER, reason="litigation",
                placed_by="ops@z3")
    holds.place(store, AS_OF - 3 * DAY, tenant_id=b, kind="call", target=f"CA{b}0004", reason="subpoena",
                placed_by="ops@z3")
    # c: the whole tenant on hold: nothing goes
    _call(ports, expect, c, f"CA{c}0001", 900, "hold")
    _doc(ports, expect, f"tenants/{c}/messages/SMold", -400, kept=True, **{"from": OTHER, "body": "z"})
    holds.place(store, AS_OF - 3 * DAY, tenant_id=c, kind="tenant", target=None, reason="regulator inquiry",
                placed_by="ops@z3")
    audit_ids = {p for p in expect.kept | expect.gone if "/audit/" in p}
    assert audit_ids  # the hold placements wrote audit entries too: recent, so kept
    for tid in (b, c):
        for entry in audit.latest(store, tid):
            expect.kept.add(f"tenants/{tid}/audit/{entry['id']}")
    return ids, expect


def snapshot(ports: Ports, tenant_ids: list[str]) -> dict[str, object]:
    """Every document (path -> data) and blob (path) under the tenants."""
    store, found = ports.store(), {}

    def walk(doc_path: str) -> None:
        data = store.get(doc_path)
        if data is not None:
            found[doc_path] = data
        for sub in store.list_collections(doc_path):
            for doc in store.stream(Query(f"{doc_path}/{sub}")):
                walk(doc.path)

    for tid in tenant_ids:
        walk(f"tenants/{tid}")
        for blob in ports.blobs().list(f"tenants/{tid}/"):
            found[blob] = "blob"
    return found
