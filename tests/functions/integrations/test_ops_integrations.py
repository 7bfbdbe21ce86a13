"""``scripts/ops integrations``: connect QuickBooks by the printed URL (bound to this invocation),
see it connected, set the service item, disconnect it (revoked at Intuit, audit names who)."""

from __future__ import annotations

from urllib.parse import urlencode

from shared.accounts import audit
from shared.integrations import connections
from tests.functions.integrations.conftest import OWNER, TENANT
from tools import ops


def _ops(settings, capsys, *argv):
    status = ops.main(["--data-dir", str(settings.z3_data_dir), *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_connect_status_item_disconnect(client, settings, ports, clock, intuit, businesses, capsys, monkeypatch):
    monkeypatch.setenv("INTUIT_DISCOVERY_URL", settings.intuit_discovery_url)
    monkeypatch.setenv("INTUIT_API_BASE_URL", settings.intuit_api_base_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", settings.public_base_url)
    status, out, err = _ops(settings, capsys, "integrations", "connect", "quickbooks", "--tenant", TENANT,
                            "--email", OWNER)
    assert status == 0, err
    url = out.strip().splitlines()[-1]
    assert "redirect_uri=https%3A%2F%2Fz3.example%2Foauth_callback" in url and "com.intuit.quickbooks.accounting" in url
    query = intuit.approve(url)
    assert client("oauth_callback").get("/?" + urlencode(query)).status_code == 200
    status, out, _ = _ops(settings, capsys, "integrations", "status", "--tenant", TENANT)
    assert status == 0 and out.startswith("quickbooks: connected since") and query["realmId"] in out
    status, out, _ = _ops(settings, capsys, "integrations", "quickbooks-items", "--tenant", TENANT)
    assert status == 0 and [line.split()[:2] for line in out.splitlines()] == [["2", "Consultation"], ["1", "Services"]]
    assert _ops(settings, capsys, "integrations", "quickbooks-item", "--tenant", TENANT, "--item", "2",
                "--rate", "95")[0] == 0
    status, _out, err = _ops(settings, capsys, "integrations", "quickbooks-item", "--tenant", TENANT, "--item", "77",
                             "--rate", "95")
    assert status == 2 and "no active service item with that id" in err
    assert connections.get(ports, TENANT, "quickbooks")["details"] == {"item_id": "2", "rate": 95.0}
    clock.advance(seconds=1)
    status, out, err = _ops(settings, capsys, "integrations", "disconnect", "quickbooks", "--tenant", TENANT,
                            "--email", OWNER)
    assert status == 0, err
    assert intuit.revoked == [query["realmId"]]
    entry = audit.latest(ports.store(), TENANT)[0]
    assert entry["action"] == "integration.disconnected" and entry["actor_user_id"] is not None
    assert entry["changes"] == {"reason": "operator"}
