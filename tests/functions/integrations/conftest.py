"""QuickBooks tests: the real intuit-oauth ``AuthClient`` and our accounting calls pointed at the
loopback Intuit sandbox (OAuth + the accounting API) on its own port; two businesses, so every
test can check that one tenant's QuickBooks data never reaches the other."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.tenants import TenantScope, create_tenant
from tests.functions.local import local_settings

TENANT, OTHER = "t_sunrise", "t_harbor"
OWNER, OTHER_OWNER = "dana@sunrise.example", "kim@harbor.example"


@pytest.fixture(scope="session")
def intuit_server():
    from tools.sandboxes.intuit import IntuitSandbox

    with IntuitSandbox.from_settings(Settings(Z3_BACKEND="local")) as sandbox:
        yield sandbox


@pytest.fixture
def intuit(intuit_server):
    intuit_server.reset()
    return intuit_server


@pytest.fixture
def settings(tmp_path, intuit_server):
    return local_settings(tmp_path, INTUIT_API_BASE_URL=intuit_server.url,
                          INTUIT_DISCOVERY_URL=f"{intuit_server.url}/.well-known/openid_configuration")


@pytest.fixture
def businesses(ports):
    store = ports.store()
    create_tenant(store, tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana Rivera",
                  contact_email=OWNER, time_zone="America/Denver", numbers=["+13035550100"])
    create_tenant(store, tenant_id=OTHER, name="Harbor Dental", contact_name="Kim Lo",
                  contact_email=OTHER_OWNER, time_zone="America/New_York", numbers=["+12125550100"])
    return TenantScope(store, TENANT), TenantScope(store, OTHER)
