"""The contract suite: every port's behaviour, once per backend.

``ports`` is parametrised over ``local`` (SQLite, files, local queue) and ``gcp`` (the gcp
adapters against the Firestore, Pub/Sub, GCS and Cloud Tasks emulators plus the loopback KMS
sandbox). Emulators start once per session; data is reset between tests.

Deliveries (events, tasks) land in the sink functions under ``sink_functions/``, served by
functions-framework's own apps on a loopback server that stands in for ``PUBLIC_BASE_URL``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from shared.config import Settings
from shared.runtime import Ports
from tests import conftest as root
from tests.contract import sink_state
from tools.wsgi import ServerThread, function_app, mount

SINK_DIR = Path(__file__).parent / "sink_functions"
CONTRACT_TOPIC = "contract.ping"
SUBSCRIPTIONS = {CONTRACT_TOPIC: ("contract_sink",)}
PROJECT = "z3-contract"
KMS_KEY = f"projects/{PROJECT}/locations/us-central1/keyRings/z3/cryptoKeys/data"


@pytest.fixture(scope="session")
def sink() -> Iterator[ServerThread]:
    app = mount({name: function_app(name, SINK_DIR) for name in ("contract_sink", "contract_task")})
    with ServerThread(app) as server:
        yield server


@pytest.fixture(scope="session")
def kms_sandbox():
    from tools.sandboxes.kms import KmsSandbox

    sandbox = KmsSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def emulators(sink):
    from tools.emulators import Emulators, gcloud_available

    ok, reason = gcloud_available()
    if not ok:
        if root.emulators_required():
            pytest.fail(f"Z3_REQUIRE_EMULATORS=1 but the emulators are unavailable: {reason}")
        root._emulator_state["skipped"] = reason
        yield None
        return
    emu = Emulators.start(project=PROJECT, tasks_target_port=sink.port)
    root._emulator_state["emulators"] = emu
    saved = {k: os.environ.get(k) for k in emu.env}
    os.environ.update(emu.env)  # Google's client libraries read these themselves
    try:
        yield emu
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        emu.stop()


@pytest.fixture(scope="session")
def gcp_ports(emulators, sink, kms_sandbox, tmp_path_factory) -> Iterator[Ports | None]:
    if emulators is None:
        yield None
        return
    from shared.adapters.gcp.provision import provision

    settings = Settings(
        Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT=PROJECT, PUBLIC_BASE_URL=sink.url,
        Z3_BUCKET="z3-contract", Z3_KMS_KEY=KMS_KEY, Z3_KMS_ENDPOINT=kms_sandbox.url,
        Z3_DATA_DIR=tmp_path_factory.mktemp("gcp-data"),  # the emulated deliveries' signing key
        **emulators.env,
    )
    provision(settings, SUBSCRIPTIONS)
    ports = Ports(settings)
    yield ports
    ports.close()


class Backend:
    """One backend under test: its ports, and how to make queued work move."""

    def __init__(self, name: str, ports: Ports, pump: Callable[[], object]) -> None:
        self.name = name
        self.ports = ports
        self.pump = pump

    def wait_for(self, predicate, timeout: float = 20.0):
        return sink_state.wait_for(predicate, timeout=timeout, pump=self.pump)


@pytest.fixture(params=["local", "gcp"])
def backend(request, tmp_path, sink, monkeypatch) -> Iterator[Backend]:
    from shared import events

    monkeypatch.setitem(events.SUBSCRIPTIONS, CONTRACT_TOPIC, SUBSCRIPTIONS[CONTRACT_TOPIC])
    if request.param == "local":
        from shared.adapters import local
        from shared.adapters.local.db import forget
        from shared.adapters.local.queues import Backoff

        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data", PUBLIC_BASE_URL=sink.url)
        ports = Ports(settings)
        dispatcher = local.build_dispatcher(settings, backoff=Backoff(min_seconds=0.05, max_seconds=0.2))
        yield Backend("local", ports, dispatcher.run_once)
        ports.close()
        forget(settings.z3_data_dir)
        return
    gcp = request.getfixturevalue("gcp_ports")
    if gcp is None:
        pytest.skip("gcp backend not tested: Google emulators unavailable (see the run header)")
    request.getfixturevalue("emulators").reset_firestore()
    yield Backend("gcp", gcp, lambda: None)


@pytest.fixture
def ports(backend: Backend) -> Ports:
    return backend.ports


@pytest.fixture
def marker() -> str:
    """A value unique to this test, so deliveries left over from another test never match."""
    return uuid.uuid4().hex
