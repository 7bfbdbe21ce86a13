"""The export, once per backend: the zip of a business holds every call, message, contact,
appointment, consent event and recording the store holds for it (compared by ids), nothing of
another tenant and no secret; a caller's export holds only that caller's; the archive is gone
after 7 days (the retention sweep deletes it, then its record)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile

from shared.ports import FixedClock, Query
from shared.privacy.export import export
from shared.retention.sweep import sweep
from shared.runtime import Ports
from tests.contract.privacy.data import CALLER, OTHER, business


def ids(p: Ports, collection: str) -> set[str]:
    return {doc.id for doc in p.store().stream(Query(collection))}


def test_an_export_holds_everything_of_the_business_and_nothing_else(erase_ports, sandboxes):
    tid, other = "t_exp_" + uuid.uuid4().hex[:6], "t_oth_" + uuid.uuid4().hex[:6]
    business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    business(erase_ports, sandboxes, other, "+1303555" + str(uuid.uuid4().int)[:4])
    root = f"tenants/{tid}"
    erase_ports.store().set(f"{root}/users/u_secret", {"email": "x@example.com", "password_hash": "$argon2id$x",
                                                       "totp_secret": "JBSWY3DP"})
    result = export(erase_ports, tenant_id=tid, export_id="ex1")
    archive = zipfile.ZipFile(io.BytesIO(erase_ports.blobs().get(result.blob_path)))
    files = {name: archive.read(name) for name in archive.namelist()}
    content = {name[:-5]: json.loads(data) for name, data in files.items() if name.endswith(".json")}
    for name in ("calls", "messages", "contacts", "appointments", "consent", "users"):
        assert {r["id"] for r in content[name]} == ids(erase_ports, f"{root}/{name}"), name
    events = {(c["id"], e["seq"]) for c in content["consent"] for e in c["events"]}
    assert events == {(number, doc.data["seq"]) for number in ids(erase_ports, f"{root}/consent")
                      for doc in erase_ports.store().stream(Query(f"{root}/consent/{number}/events"))}
    recordings = {name.split("/")[-1] for name in files if name.startswith("recordings/")}
    assert recordings == {b.rsplit("/", 1)[-1] for b in erase_ports.blobs().list(f"{root}/recordings/")}
    everything = b"".join(files.values())
    assert other.encode() not in everything and b"argon2id" not in everything and b"JBSWY3DP" not in everything
    assert b"calls.json" in files["README.txt"]
    assert export(erase_ports, tenant_id=tid, export_id="ex1").blob_path == result.blob_path  # replay


def test_a_caller_export_holds_only_that_caller(erase_ports, sandboxes):
    tid = "t_expc_" + uuid.uuid4().hex[:6]
    made = business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    result = export(erase_ports, tenant_id=tid, export_id="ex2", number=CALLER)
    archive = zipfile.ZipFile(io.BytesIO(erase_ports.blobs().get(result.blob_path)))
    calls = json.loads(archive.read("calls.json"))
    assert {c["id"] for c in calls} == {p.rsplit("/", 1)[1] for p in made[CALLER] if "/calls/" in p}
    assert OTHER.encode() not in b"".join(archive.read(n) for n in archive.namelist())


def test_the_archive_is_deleted_after_seven_days(erase_ports, sandboxes):
    tid = "t_expx_" + uuid.uuid4().hex[:6]
    business(erase_ports, sandboxes, tid, "+1303555" + str(uuid.uuid4().int)[:4])
    result = export(erase_ports, tenant_id=tid, export_id="ex3")
    later = Ports(erase_ports.settings).provide(store=erase_ports.store(), blobs=erase_ports.blobs(),
                                                clock=FixedClock(result.expires_at + dt.timedelta(seconds=1)))
    sweep(later, run_id=f"run-{uuid.uuid4().int % 10**8:08d}T000001")
    assert erase_ports.blobs().stat(result.blob_path) is None
    assert erase_ports.store().get(f"tenants/{tid}/exports/ex3") is None
