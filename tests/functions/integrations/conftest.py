"""QuickBooks tests: the real intuit-oauth ``AuthClient`` and our accounting calls pointed at the
loopback Intuit sandbox (OAuth + the accounting API; ``intuit`` in tests/functions/conftest.py); two businesses, so every
test can check that one tenant's QuickBooks data never reaches the other."""

from __future__ import annotations

import pytest

from shared.tenants import TenantScope, create_tenant
from tests.functions.conftest import intuit_settings
from tests.functions.local import local_settings

TENANT, OTHER = "t_sunrise", "t_harbor"
OWNER, OTHER_OWNER = "dana@sunrise.example", "kim@harbor.example"


@pytest.fixture
def settings(tmp_path, intuit_server):
    return local_settings(tmp_path, **intuit_settings(intuit_server))


@pytest.fixture
def businesses(ports):
    store = ports.store()
    create_tenant(store, tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana Rivera",
                  contact_email=OWNER, time_zone="America/Denver", numbers=["+13035550100"])
    create_tenant(store, tenant_id=OTHER, name="Harbor Dental", contact_name="Kim Lo",
                  contact_email=OTHER_OWNER, time_zone="America/New_York", numbers=["+12125550100"])
    return TenantScope(store, TENANT), TenantScope(store, OTHER)
