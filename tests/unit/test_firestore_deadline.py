"""A Firestore that accepts the connection and never answers: every store call gives up within
Z3_STORE_DEADLINE_SECONDS (RPC timeout and retry deadline) with StoreUnavailable (503), instead
of the client's 60 s defaults. The "Firestore" is a listening socket that never replies."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from shared.ports import StoreUnavailable


@pytest.fixture
def silent_host():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # never read from, never answered
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_settings_give_the_store_deadline():
    from shared.adapters.gcp.firestore import call_options

    read, write = call_options(5.0)
    assert read["timeout"] == write["timeout"] == 5.0
    assert read["retry"].timeout == write["retry"].timeout == 5.0


@pytest.mark.parametrize("operation", ["get", "set", "query"])
def test_a_firestore_that_never_answers_is_unavailable_within_the_deadline(silent_host, operation):
    from shared.adapters.gcp.firestore import FirestoreStore
    from shared.config import Settings
    from shared.ports import Query

    settings = Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-local", FIRESTORE_EMULATOR_HOST=silent_host,
                        Z3_STORE_DEADLINE_SECONDS=1.0)
    store = FirestoreStore.from_settings(settings)
    call = {"get": lambda: store.get("tenants/t_1"), "set": lambda: store.set("tenants/t_1", {"a": 1}),
            "query": lambda: store.query(Query("tenants"))}[operation]
    started = time.perf_counter()
    try:
        with pytest.raises(StoreUnavailable):
            call()
    finally:
        store.close()
    assert time.perf_counter() - started < 2.5
