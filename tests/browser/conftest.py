"""The browser tests' fixtures: one Chromium per session, and the local stack (``scripts/dev``)
in a child process: ``stack`` without the demo (module scope), ``demo_stack`` with the
simulated day played and the demo owner's credentials (session scope, shared by every test
that needs the demo business)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.support import ARGS, CHROMIUM
from tools.wsgi import REPO


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


@dataclass
class DemoStack:
    url: str  # http://127.0.0.1:<port>
    data_dir: Path
    email: str  # the demo owner
    password: str


@contextlib.contextmanager
def _run(data_dir: Path, *extra: str, timeout: float = 120):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_EMULATOR_HOST") and k not in ("GOOGLE_CLOUD_PROJECT", "Z3_BACKEND")}
    out_path = data_dir / "stdout.txt"
    with open(out_path, "w") as out, open(data_dir / "stderr.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tools.devstack", *extra, "--port", str(port),
                                 "--data-dir", str(data_dir / "data")], cwd=REPO, stdout=out, stderr=err, env=env)
        try:
            deadline = time.monotonic() + timeout
            while "Ready." not in out_path.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, out_path.read_text()
                time.sleep(0.3)
            yield f"http://127.0.0.1:{port}", out_path
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser")
    with _run(data_dir, "--no-demo") as (url, _):
        yield url


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo")
    with _run(data_dir, timeout=300) as (url, out_path):
        found = re.search(r"Dashboard: \S+\s+email (\S+)\s+password (\S+)", out_path.read_text())
        assert found, out_path.read_text()
        yield DemoStack(url, data_dir / "data", email=found.group(1), password=found.group(2))


def run_stack(data_dir: Path, *, demo: bool):
    """``scripts/dev`` in a child process (``--no-demo`` unless ``demo``): yields its base URL and
    the path of its stdout (the demo prints its ``Dashboard:`` line there)."""
    return _run(data_dir, *([] if demo else ["--no-demo"]), timeout=300 if demo else 120)
