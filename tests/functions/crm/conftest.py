"""CRM webhook tests: ``crm_push`` through functions-framework on the embedded backend, posting
to the loopback CRM receiver (which verifies with the ``standardwebhooks`` reference package).
The clock starts at the real time: the receiver checks the signature's timestamp against its own
clock, as a real CRM does."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.ports import FixedClock
from tests.functions.email.support import seed_business


@pytest.fixture
def clock():
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


@pytest.fixture
def business(ports):
    return seed_business(ports)


def queued(settings, target: str = "crm_push") -> list[tuple[str, bytes, float]]:
    from shared.adapters.local.db import database

    return [(name, bytes(body), due) for name, body, due in database(settings.z3_data_dir).read(
        "SELECT name, body, next_attempt_at FROM tasks WHERE target = ? ORDER BY created_at, name", (target,))]


def run_task(client, body: bytes):
    from tests.functions.local import worker_headers

    response = client("crm_push").post("/", data=body, headers=worker_headers("crm_push", body))
    return response.status_code, json.loads(response.get_data() or b"null")
