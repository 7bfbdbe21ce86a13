"""The local dispatcher claims a row before delivering it: two dispatchers on one database never
deliver the same row twice when nothing fails, and a row whose dispatcher was killed mid-delivery
is delivered again once its lease runs out (a real process, killed with SIGKILL)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.adapters.local.db import LocalDatabase, forget
from shared.adapters.local.queues import Dispatcher, LocalTaskQueue
from shared.config import Settings

ITEMS = 500


def _settings(data_dir: Path, base_url: str = "http://127.0.0.1:9") -> Settings:
    return Settings(Z3_BACKEND="local", Z3_DATA_DIR=data_dir, PUBLIC_BASE_URL=base_url)


def _enqueue(settings: Settings, n: int) -> None:
    queue = LocalTaskQueue(LocalDatabase(settings.z3_data_dir / "z3.db"), settings)
    for i in range(n):
        queue.enqueue("sink", b"{}", name=f"item-{i:04d}")


def _statuses(settings: Settings) -> Counter:
    db = LocalDatabase(settings.z3_data_dir / "z3.db")
    return Counter(dict(db.read("SELECT status, COUNT(*) FROM tasks GROUP BY status")))


def test_two_dispatchers_on_one_database_deliver_each_item_exactly_once(tmp_path):
    settings = _settings(tmp_path / "data")
    _enqueue(settings, ITEMS)
    delivered: list[str] = []
    lock = threading.Lock()

    def poster(url: str, body: bytes, headers: dict[str, str]) -> int:
        time.sleep(0.001)  # a delivery takes a moment: the other dispatcher runs meanwhile
        with lock:
            delivered.append(headers["X-CloudTasks-TaskName"])
        return 200

    # Each dispatcher has its own database object (its own connections), as two processes would.
    dispatchers = [Dispatcher(LocalDatabase(settings.z3_data_dir / "z3.db"), settings, poster=poster, batch_size=20)
                   for _ in range(2)]
    threads = [threading.Thread(target=d.drain, kwargs={"timeout": 60}) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    counts = Counter(delivered)
    assert len(counts) == ITEMS
    assert [name for name, n in counts.items() if n > 1] == []
    assert _statuses(settings) == Counter({"done": ITEMS})


# -- a dispatcher process killed mid-delivery -----------------------------------------------------

HANG_ON = "item-0100"


def _child_dispatcher(data_dir: str, base_url: str) -> None:
    """Runs in its own process: delivers with a short lease until it is killed."""
    settings = _settings(Path(data_dir), base_url)
    from shared.adapters.local.queues import requests_poster

    Dispatcher(LocalDatabase(Path(data_dir) / "z3.db"), settings, poster=requests_poster(timeout=30),
               lease_seconds=1.0).drain(timeout=60)


class _Sink:
    """A loopback task target that counts deliveries and hangs on one item until released."""

    def __init__(self) -> None:
        self.received: Counter = Counter()
        self.lock = threading.Lock()
        self.hanging = threading.Event()
        self.release = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                name = self.headers["X-CloudTasks-TaskName"]
                with sink.lock:
                    sink.received[name] += 1
                    first_hang = name == HANG_ON and sink.received[name] == 1
                if first_hang:
                    sink.hanging.set()
                    sink.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = _Sink()
    yield s
    s.stop()


def test_an_item_whose_dispatcher_was_killed_mid_delivery_is_delivered_again(tmp_path, sink):
    data_dir = tmp_path / "data"
    settings = _settings(data_dir, sink.url)
    _enqueue(settings, ITEMS)
    child = multiprocessing.get_context("spawn").Process(target=_child_dispatcher, args=(str(data_dir), sink.url))
    child.start()
    try:
        assert sink.hanging.wait(60), "the child dispatcher never reached the item it dies on"
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL
    finally:
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            child.join(10)
    sink.release.set()
    assert _statuses(settings)["leased"] == 1  # the killed delivery holds its lease: in flight

    from shared.adapters.local.queues import requests_poster

    survivor = Dispatcher(LocalDatabase(data_dir / "z3.db"), settings, poster=requests_poster(timeout=30))
    survivor.drain(timeout=60)

    assert set(sink.received) == {f"item-{i:04d}" for i in range(ITEMS)}  # every item at least once
    assert sink.received[HANG_ON] == 2  # the killed one again, after its lease ran out
    assert _statuses(settings) == Counter({"done": ITEMS})
    forget(data_dir)


def test_ops_queue_shows_a_leased_row_as_in_flight(tmp_path, capsys):
    from shared import runtime
    from shared.runtime import Ports
    from tools import ops

    settings = _settings(tmp_path / "data")
    _enqueue(settings, 2)
    ports = runtime.use(Ports(settings))
    try:
        seen: list[str] = []

        def poster(url: str, body: bytes, headers: dict[str, str]) -> int:
            if not seen:  # while the first delivery is in flight, the operator looks
                seen.append("x")
                assert ops.main(["queue", "list"]) == 0
            return 200

        Dispatcher(LocalDatabase(settings.z3_data_dir / "z3.db"), settings, poster=poster, batch_size=1).run_once()
        assert "tasks: in flight 1, pending 1" in capsys.readouterr().out
    finally:
        runtime.reset()
        ports.close()
        forget(settings.z3_data_dir)


@pytest.mark.parametrize("answer,level,message", [
    (503, "INFO", "delivery deferred, will retry"),      # the target asks to be delivered again
    (500, "WARNING", "delivery failed, will retry"),
    (ConnectionError, "WARNING", "delivery failed, will retry"),
])
def test_an_asked_for_redelivery_is_info_and_a_failure_a_warning(tmp_path, caplog, answer, level, message):
    settings = _settings(tmp_path / "data")
    _enqueue(settings, 1)

    def poster(url: str, body: bytes, headers: dict[str, str]) -> int:
        if isinstance(answer, int):
            return answer
        raise answer("refused")

    with caplog.at_level("INFO", logger="z3.local.dispatcher"):
        Dispatcher(LocalDatabase(settings.z3_data_dir / "z3.db"), settings, poster=poster).run_once()
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "z3.local.dispatcher"]
    assert records == [(level, message)]
    assert _statuses(settings) == Counter({"pending": 1})
    forget(settings.z3_data_dir)
