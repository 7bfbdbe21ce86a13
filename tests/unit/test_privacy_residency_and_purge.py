"""US only: an account whose address or contact number places it in the EU/EEA is flagged for
deletion once and its owner emailed; ``scripts/ops tenant purge`` refuses during the notice
period, then deletes the account and prints the certificate; a second purge prints it again."""

from __future__ import annotations

import datetime as dt
import json

from shared.adapters.local.db import database
from shared.models.base import utcnow
from shared.privacy import residency
from shared.tenants import TenantScope, create_tenant
from tools import ops


def tenant(store, tenant_id: str, **patch) -> str:
    create_tenant(store, tenant_id=tenant_id, name="Bäckerei", contact_name="Jo",
                  contact_email=f"{tenant_id}@example.com", numbers=[])
    if patch:
        store.update(f"tenants/{tenant_id}", patch)
    return tenant_id


def notify_tasks(ports) -> list[dict]:
    rows = database(ports.settings.z3_data_dir).read("SELECT target, body FROM tasks")
    return [json.loads(body) for target, body in rows if target == "notify"]


def test_an_eu_address_or_number_flags_once_and_emails_the_owner(ports, store):
    tenant(store, "t_de", **{"address.country": "DE"})
    tenant(store, "t_phone", **{"contact.phone": "+4930123456"})
    tenant(store, "t_us", **{"contact.phone": "+13035550100"})
    signal = residency.flag(ports, "t_de")
    assert signal is not None and signal.country == "DE"
    data = store.get("tenants/t_de")
    assert data["status"] == "flagged_for_deletion" and data["flagged_at"] == ports.clock().now()
    assert residency.flag(ports, "t_de") is None  # flagged already: no second email
    assert residency.flag(ports, "t_us") is None and store.get("tenants/t_us")["status"] == "active"
    assert residency.flag(ports, "t_phone").source == "phone"
    sent = [t for t in notify_tasks(ports) if t["template"] == "account_flagged"]
    assert sorted(t["tenant_id"] for t in sent) == ["t_de", "t_phone"]
    assert residency.notice_ends(store, "t_de") == ports.clock().now() + residency.NOTICE


def test_purge_waits_for_the_notice_then_deletes_and_certifies(ports, store, settings, capsys):
    tenant(store, "t_purge", **{"address.country": "FR"})
    TenantScope(store, "t_purge").set("calls/CA1", {"call_sid": "CA1", "from": "+17205550100",
                                                    "created_at": utcnow()})
    store.update("tenants/t_purge", {"status": "flagged_for_deletion", "flagged_at": utcnow()})
    argv = ["--data-dir", str(settings.z3_data_dir), "tenant", "purge", "t_purge"]
    assert ops.main(argv) == 3
    assert "notice period runs until" in capsys.readouterr().err
    assert store.get("tenants/t_purge/calls/CA1") is not None
    store.update("tenants/t_purge", {"flagged_at": utcnow() - residency.NOTICE - dt.timedelta(days=1)})
    assert ops.main([*argv, "--json"]) == 0
    cert = json.loads(capsys.readouterr().out)
    assert cert["deleted"]["calls"] == 1 and cert["completed_at"]
    assert store.get("tenants/t_purge") is None and store.get("tenants/t_purge/calls/CA1") is None
    assert ops.main([*argv, "--json"]) == 0  # replay: the same certificate
    assert json.loads(capsys.readouterr().out) == cert
