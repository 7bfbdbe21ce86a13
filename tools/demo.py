"""The demo business and its simulated day, played by ``scripts/dev`` (unless ``--no-demo``).

Seeding is idempotent: a restart on the same data directory reuses the demo business."""

from __future__ import annotations

from typing import Callable

from shared.runtime import Ports

DEMO_TENANT = "t_demo_sunrise"
DEMO_NUMBER = "+13035550100"
DEMO_OWNER = "owner@sunrise-plumbing.example"


def seed(ports: Ports):
    from shared import tenants
    from shared.models.tenant import Address

    store = ports.store()
    tenant = tenants.get_tenant(store, DEMO_TENANT)
    if tenant is None:
        tenant = tenants.create_tenant(
            store, tenant_id=DEMO_TENANT, name="Sunrise Plumbing", contact_name="Dana Rivera",
            contact_email=DEMO_OWNER, time_zone="America/Denver",
            address=Address(line1="1200 Larimer St", city="Denver", state="CO", postal_code="80204"),
            numbers=[DEMO_NUMBER],
        )
    return tenant


def run(base_url: str, ports: Ports, dispatcher, out: Callable[[str], None]) -> None:
    tenant = seed(ports)
    out(f"Demo business: {tenant.name} ({tenant.id}), number {', '.join(tenant.numbers)}, time zone {tenant.time_zone}")
    from tools import simulate

    simulate.play_day(base_url, ports, dispatcher, tenant, out=out)
