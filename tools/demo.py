"""The demo business and its simulated day, played by ``scripts/dev`` (unless ``--no-demo``).

Once per data directory: a restart on the same data directory reuses the demo business and
does not play the day again (which would add a second set of calls, appointments and consent
events to the first). ``DAY`` records that the day was started and when it finished; a day the
stack stopped in the middle of is not played again either, and the narration says so. A fresh
day: a new ``--data-dir`` (or delete the old one); ``scripts/simulate`` plays it again on purpose."""

from __future__ import annotations

from typing import Callable

from shared.runtime import Ports

DEMO_TENANT = "t_demo_sunrise"
DEMO_NUMBER = "+13035550100"
DEMO_OWNER = "owner@sunrise-plumbing.example"
DAY = "dev_stack/demo_day"  # {"state": "playing" | "played", "tenant_id", "started_at", "finished_at"}


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


PASSWORD_FILE = "demo_owner_password"


def owner_credentials(ports: Ports, tenant) -> tuple[str, str]:
    """The demo owner's email and password (local mode only): a random password made once per
    data directory and kept there (0600), so a restart prints the same one; the store holds
    only its Argon2id hash. The owner has confirmed the email and accepted the current terms."""
    import secrets

    from shared.accounts import passwords, policy
    from shared.models.tenant import email_key

    if not ports.settings.development:
        raise RuntimeError("demo credentials exist in development (local or emulated) mode only")
    store = ports.store()
    path = ports.settings.z3_data_dir / PASSWORD_FILE
    login = store.get(f"user_logins/{email_key(DEMO_OWNER)}")
    user_path = f"tenants/{tenant.id}/users/{login['user_id']}"
    user = store.get(user_path) or {}
    if path.exists() and user.get("password_hash"):
        return DEMO_OWNER, path.read_text().strip()
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    now = ports.clock().now()
    store.update(user_path, {"password_hash": passwords.hash_password(password), "status": "active",
                             "email_verified_at": now})
    policy.record_acceptance(store, now, tenant_id=tenant.id, user_id=login["user_id"], ip="127.0.0.1",
                             user_agent="scripts/dev", settings=ports.settings)
    return DEMO_OWNER, password


PlayDay = Callable[..., None]  # tools.simulate.play_day(base_url, ports, dispatcher, tenant, out=...)


def run(base_url: str, ports: Ports, dispatcher, out: Callable[[str], None], play: PlayDay) -> bool:
    """Seed the demo business and play its day with ``play`` (``tools.simulate.play_day``: the
    caller hands it in, so the day imports the business and not the other way round), unless
    this data dir has already had it; returns whether the day was played now."""
    tenant = seed(ports)
    email, password = owner_credentials(ports, tenant)
    out(f"Dashboard: {base_url}/app/  email {email}  password {password}")
    out(f"Demo business: {tenant.name} ({tenant.id}), number {', '.join(tenant.numbers)}, time zone {tenant.time_zone}")
    store, clock = ports.store(), ports.clock()
    if not store.create(DAY, {"state": "playing", "tenant_id": tenant.id, "started_at": clock.now()}):
        day = store.get(DAY) or {}
        where = ports.settings.z3_data_dir
        if day.get("state") == "played":
            out(f"The demo day was already played on this data dir (finished {day.get('finished_at')}): its records "
                f"are kept and it is not played again. For a fresh day use a new --data-dir (or delete {where}); "
                "scripts/simulate plays it again on purpose.")
        else:
            out(f"The demo day started on this data dir at {day.get('started_at')} did not finish (the stack stopped "
                f"during it); it is not played again, so nothing is doubled. For a fresh day use a new --data-dir "
                f"(or delete {where}).")
        return False
    play(base_url, ports, dispatcher, tenant, out=out)
    store.update(DAY, {"state": "played", "finished_at": clock.now()})
    return True
