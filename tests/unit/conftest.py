from __future__ import annotations

import pytest

from shared.config import Settings
from shared.ports import FixedClock
from shared.runtime import Ports


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ports(settings, clock):
    from shared.adapters.local.db import forget

    from tests.functions.conftest import _drain_fallback_pool

    p = Ports(settings).provide(clock=clock)
    yield p
    _drain_fallback_pool()
    p.close()
    forget(settings.z3_data_dir)


@pytest.fixture
def store(ports):
    return ports.store()
