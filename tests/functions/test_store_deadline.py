"""A stuck store answers 503 inside the providers' deadlines (Twilio 15 s, Retell 10 s), so
the fallback URL or the provider's retry takes over, instead of the request waiting out
SQLite's busy timeout (it was 30 s) and answering after the provider gave up.

The lock is real: a second connection holds ``BEGIN EXCLUSIVE`` on the SQLite file while a
signed request runs through the function."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

import pytest

from tests.functions.sms.support import inbound_params, seed_business, signed_post
from tests.functions.voice.support import call_params, new_call_sid, post, seed

DEADLINE = 5.0  # Z3_STORE_DEADLINE_SECONDS' default
BUDGET = 6.0


@contextmanager
def locked(settings):
    other = sqlite3.connect(settings.z3_data_dir / "z3.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_settings_default_to_a_five_second_store_deadline(settings):
    assert settings.z3_store_deadline_seconds == DEADLINE


@pytest.mark.parametrize("function", ["voice_answer", "sms_inbound"])
def test_a_locked_database_answers_503_within_the_deadline(client, settings, ports, function):
    if function == "voice_answer":
        seed(ports)
        send = lambda: post(client, settings, "voice_answer", call_params(new_call_sid()))  # noqa: E731
    else:
        seed_business(ports)
        send = lambda: signed_post(client, settings, "sms_inbound", inbound_params("Is Tuesday ok?"))  # noqa: E731
    assert send().status_code == 200  # warm: the tenant read and the function's imports are done
    with locked(settings):
        started = time.perf_counter()
        response = send()
        elapsed = time.perf_counter() - started
    print(f"{function}: {response.status_code} after {elapsed:.2f} s with the database locked")
    assert response.status_code == 503
    assert DEADLINE - 0.5 < elapsed < BUDGET
    assert send().status_code == 200  # and it recovers once the lock is gone
