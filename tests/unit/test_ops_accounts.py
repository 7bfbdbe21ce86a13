"""``scripts/ops api-token create`` and ``scripts/ops user unlock`` do what they say."""

from __future__ import annotations

import pytest

from shared.accounts import throttle, tokens
from shared.config import Settings
from shared.models.tenant import Role, email_key
from shared.ports import Query
from shared.runtime import Ports
from shared.tenants import add_user, create_tenant
from tools import ops

TENANT = "t_ops"


@pytest.fixture
def data_dir(tmp_path):
    from shared.adapters.local.db import forget

    path = tmp_path / "data"
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=path))
    create_tenant(ports.store(), tenant_id=TENANT, name="Sunrise Plumbing", contact_name="Dana",
                  contact_email="dana@sunrise.example")
    add_user(ports.store(), TENANT, email="sam@sunrise.example", role=Role.staff, password_hash="$argon2id$x")
    ports.close()
    yield path
    forget(path)


def _ports(data_dir) -> Ports:
    return Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=data_dir))


def test_api_token_create_prints_a_working_token_once(data_dir, capsys):
    status = ops.main(["--data-dir", str(data_dir), "api-token", "create", "--tenant", TENANT, "--email",
                       "sam@sunrise.example", "--name", "zapier", "--scope", "write"])
    out = capsys.readouterr().out
    assert status == 0, out
    token = out.strip().splitlines()[-1]
    ports = _ports(data_dir)
    principal = tokens.authenticate(ports.store(), ports.clock().now(), ports.settings.secret("z3_api_token_pepper"),
                                    token)
    assert principal is not None and principal.tenant_id == TENANT and principal.has_scope("write")
    assert principal.role == Role.staff
    stored = [d.data for d in ports.store().query(Query("api_tokens"))]
    assert len(stored) == 1 and token not in repr(stored)  # only its keyed hash is kept
    ports.close()


def test_api_token_create_refuses_a_member_of_another_business(data_dir, capsys):
    ports = _ports(data_dir)
    create_tenant(ports.store(), tenant_id="t_other", name="Other", contact_name="O", contact_email="o@other.example")
    ports.close()
    status = ops.main(["--data-dir", str(data_dir), "api-token", "create", "--tenant", "t_other", "--email",
                       "sam@sunrise.example", "--name", "x"])
    assert status == 1 and "no user with the email sam@sunrise.example at t_other" in capsys.readouterr().err


def test_user_unlock_lifts_the_sign_in_lock(data_dir, capsys):
    ports = _ports(data_dir)
    store, now, key = ports.store(), ports.clock().now(), email_key("sam@sunrise.example")
    for _ in range(throttle.ACCOUNT.lock_after):
        throttle.failed(store, throttle.ACCOUNT, key, now)
    with pytest.raises(throttle.Throttled):
        throttle.check(store, throttle.ACCOUNT, key, now)
    assert ops.main(["--data-dir", str(data_dir), "user", "unlock", "--email", "Sam@Sunrise.example"]) == 0
    assert "unlocked" in capsys.readouterr().out
    throttle.check(store, throttle.ACCOUNT, key, now)  # no longer raises
    ports.close()
