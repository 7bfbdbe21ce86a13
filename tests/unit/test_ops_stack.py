"""``scripts/ops`` against a running local stack: commands that call a provider use the stack's
sandbox (recorded by the dev stack in ``<data dir>/stack.json``), never the real provider."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from shared.config import Settings
from shared.runtime import Ports
from shared.tenants import TenantScope, create_tenant
from tools import ops
from tools.devstack import STACK_FILE, forget_stack, record_stack, running_stack
from tools.sandboxes.twilio import TwilioSandbox


@pytest.fixture
def data_dir(tmp_path):
    from shared.adapters.local.db import forget

    path = tmp_path / "data"
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=path))
    create_tenant(ports.store(), tenant_id="t_ops", name="Sunrise Plumbing", contact_name="Dana",
                  contact_email="dana@sunrise.example", numbers=["+13035550100"])
    ports.close()
    yield path
    forget(path)


@pytest.fixture
def twilio():
    with TwilioSandbox.from_settings(Settings(Z3_BACKEND="local")) as sandbox:
        yield sandbox


def test_recordings_sweep_lists_the_stacks_twilio_sandbox(data_dir, twilio, capsys):
    call = twilio.add_call(to="+13035550100", status="completed")
    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=data_dir))
    TenantScope(ports.store(), "t_ops").set(f"calls/{call}", {"call_sid": call})  # the business's call
    ports.close()
    old = twilio.add_recording(call_sid=call, created=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    record_stack(data_dir, "http://127.0.0.1:1", {"TWILIO_API_BASE_URL": twilio.url})
    assert ops.main(["--data-dir", str(data_dir), "recordings", "sweep", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["queued"] == [old]  # listed at the sandbox, queued for ingest
    assert any("/Recordings.json" in r.path for r in twilio.requests)


def test_without_a_running_stack_the_sweep_says_so(data_dir, capsys):
    assert ops.main(["--data-dir", str(data_dir), "recordings", "sweep"]) == 2
    assert capsys.readouterr().err.startswith("error: no local stack is running on ")


def test_a_stack_that_died_is_not_used(data_dir, twilio, capsys):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data_dir / STACK_FILE).write_text(f'{{"pid": {int(dead.stdout)}, "url": "x", '
                                       f'"endpoints": {{"TWILIO_API_BASE_URL": "{twilio.url}"}}}}')
    assert running_stack(data_dir) is None
    assert ops.main(["--data-dir", str(data_dir), "recordings", "sweep"]) == 2
    assert "no local stack is running" in capsys.readouterr().err
    assert twilio.requests == []


def test_a_sandbox_that_is_down_is_one_line_and_status_4(data_dir, capsys):
    sandbox = TwilioSandbox.from_settings(Settings(Z3_BACKEND="local")).start()
    url = sandbox.url
    sandbox.stop()
    record_stack(data_dir, "http://127.0.0.1:1", {"TWILIO_API_BASE_URL": url})
    try:
        assert ops.main(["--data-dir", str(data_dir), "recordings", "sweep"]) == 4
    finally:
        forget_stack(data_dir)
    err = capsys.readouterr().err
    assert err.startswith("error: Twilio is unavailable (") and err.count("\n") == 1 and "Traceback" not in err
