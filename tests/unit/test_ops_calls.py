"""``scripts/ops calls list`` filters and searches like the dashboard; ``calls delete`` removes a
call and its recording file and leaves an audit entry naming the operator."""

from __future__ import annotations

from shared.config import Settings
from shared.models.base import utcnow
from shared.ports import Query
from shared.runtime import Ports
from shared.tenants import TenantScope, create_tenant
from shared.voice.listing import listing_fields
from tools import ops

TENANT = "t_opscalls"


def test_list_searches_and_delete_erases_with_an_audit_entry(tmp_path, capsys):
    from shared.adapters.local.db import forget

    path = tmp_path / "data"
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=path))
    create_tenant(ports.store(), tenant_id=TENANT, name="Sunrise", contact_name="Dana",
                  contact_email="dana@sunrise.example")
    scope, blob = TenantScope(ports.store(), TENANT), f"tenants/{TENANT}/recordings/CA1/RE1.wav"
    info = ports.blobs().put(blob, b"RIFF....", content_type="audio/wav")
    for sid, summary, recordings in (("CA" + "1" * 32, "crown fell out", [
            {"recording_sid": "RE1", "source": "retell", "blob_path": blob, "size": info.size,
             "sha256": info.sha256, "stored_at": utcnow()}]), ("CA" + "2" * 32, "new patient", [])):
        doc = {"call_sid": sid, "created_at": utcnow(), "summary": summary, "status": "completed",
               "recordings": recordings}
        scope.set(f"calls/{sid}", {**doc, **listing_fields(doc)})
    ports.close()
    base = ["--data-dir", str(path)]
    assert ops.main([*base, "calls", "list", "--tenant", TENANT, "--search", "crown", "--json"]) == 0
    listed = capsys.readouterr().out
    assert "1" * 32 in listed and "2" * 32 not in listed
    assert ops.main([*base, "calls", "delete", "--tenant", TENANT, "CA" + "1" * 32, "--yes"]) == 0
    assert "with 1 recording(s)" in capsys.readouterr().out
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=path))
    try:
        assert TenantScope(ports.store(), TENANT).get("calls/CA" + "1" * 32) is None
        assert ports.blobs().stat(blob) is None
        [entry] = [d.data for d in ports.store().query(Query(f"tenants/{TENANT}/audit"))]
        assert entry["action"] == "call.deleted" and entry["changes"]["by"] == "operator"
    finally:
        ports.close()
        forget(path)
