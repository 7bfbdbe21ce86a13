"""The four Google emulators behind the gcp side of the contract suite and ``scripts/dev
--backend gcp``.

:meth:`Emulators.start` launches them in parallel on free loopback ports, waits until each one
answers, and returns their addresses as the environment Google's libraries (and ``Settings``)
read. They live for one test session (or one dev stack); :meth:`Emulators.reset_firestore` wipes the documents
between tests in a few milliseconds.

* Firestore and Pub/Sub: the jars the gcloud CLI ships (components cloud-firestore-emulator and
  pubsub-emulator), started with ``java`` directly with the flags ``gcloud emulators firestore
  start`` / ``gcloud beta emulators pubsub start`` use. Measured on 2 cores, alone: Firestore
  1.6 s by jar vs 5.9 s through gcloud, Pub/Sub 1.2 s vs 3.1 s (the wrappers add Python start-up).
* GCS: ``gcp-storage-emulator`` from the test virtualenv (the directory of ``sys.executable``).
* Cloud Tasks: ``gcloud-tasks-emulator`` from its own virtualenv (``Z3_TASKS_EMULATOR_BIN``; it
  pins protobuf<5). See :data:`_TASKS_LAUNCHER` for how it dispatches and what we patch.

Every emulator runs in its own process group (stopped with ``killpg``: wrappers fork children)
and logs to a file in a temporary directory; a failed start raises with the tail of that log and
keeps the directory.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90.0
_POLL = 0.05
# C1-only JIT: the emulators start ~0.5 s sooner and a cold test session runs markedly faster
# (measured on 2 cores: 16 Firestore contract tests 6.6 s vs 10-14 s); long-lived emulators
# would prefer the default tiered JIT, test sessions do not live that long.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1",)

# The Cloud Tasks emulator (gcloud-tasks-emulator 0.6.2, server.py) dispatches an HTTP task
# (``http_request.url`` set, which is what CloudTasksQueue creates) to that absolute URL as is:
# ``--target-host``/``--target-port`` are only used for App Engine tasks (``relative_uri``). So
# tasks reach whatever ``PUBLIC_BASE_URL/<target>`` the adapter put on them, and the target
# port given to the harness is passed along for App Engine-style tasks only. It POSTs the body
# with the task's headers plus ``X-CloudTasks-QueueName/TaskName/TaskRetryCount/...``, retries
# a 4xx/5xx or a connection failure every ~0.1 s without backoff, keeps a scheduled task until
# its ``schedule_time``, and ignores the OIDC token. It does NOT deduplicate task names (a second
# CreateTask with the same name is simply queued again), which Cloud Tasks does for about an hour
# after the first task ran; the launcher below adds that (ALREADY_EXISTS for a name it has seen)
# so the contract suite tests the behaviour production has.
_TASKS_LAUNCHER = """
import sys, threading
from google.api_core.exceptions import AlreadyExists
from gcloud_tasks_emulator import server
from gcloud_tasks_emulator.__main__ import main

_create_task = server.QueueState.create_task
_seen, _lock = set(), threading.Lock()

def create_task(self, queue, task):
    if task.name:
        with _lock:
            if task.name in _seen:
                raise AlreadyExists("Requested entity already exists: " + task.name)
            _seen.add(task.name)
    return _create_task(self, queue, task)

server.QueueState.create_task = create_task
sys.argv = ["gcloud-tasks-emulator", *sys.argv[1:]]
main()
"""


class EmulatorError(RuntimeError):
    """An emulator did not start (the message ends with the tail of its log)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.lru_cache(maxsize=1)
def _sdk_root() -> Path | None:
    """The gcloud SDK's root: beside the resolved ``gcloud`` (fast), else as gcloud reports it."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    root = Path(gcloud).resolve().parent.parent  # <sdk>/bin/gcloud
    if (root / "platform").is_dir():
        return root
    try:  # an install whose gcloud on PATH is a launcher, not a link (snap, some wrappers)
        out = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"], capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out and (Path(out) / "platform").is_dir() else None


def _firestore_jar(root: Path | None) -> Path | None:
    jar = root / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar" if root else None
    return jar if jar is not None and jar.is_file() else None


def _pubsub_jar(root: Path | None) -> Path | None:
    lib = root / "platform" / "pubsub-emulator" / "lib" if root else None
    jars = sorted(lib.glob("cloud-pubsub-emulator-*.jar")) if lib is not None and lib.is_dir() else []
    return jars[-1] if jars else None


def tasks_emulator_bin() -> Path:
    return Path(os.environ.get("Z3_TASKS_EMULATOR_BIN")
                or REPO / ".venv-tasks-emulator" / "bin" / "gcloud-tasks-emulator")


def storage_emulator_bin() -> Path:
    return Path(sys.executable).parent / "gcp-storage-emulator"


def _python_of(script: Path) -> Path:
    """The interpreter of a console script: its shebang, else the ``python`` beside it."""
    try:
        first = script.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        first = ""
    if first.startswith("#!") and " " not in first[2:].strip():
        candidate = Path(first[2:].strip())
        if candidate.is_file():
            return candidate
    return script.parent / "python"


def gcloud_available() -> tuple[bool, str]:
    """Whether all four emulators can start here; the reason when not."""
    missing: list[str] = []
    root = _sdk_root()
    if root is None:
        missing.append("the gcloud CLI is not on PATH (or its SDK root was not found)")
    else:
        if _firestore_jar(root) is None:
            missing.append("gcloud component cloud-firestore-emulator is not installed")
        if _pubsub_jar(root) is None:
            missing.append("gcloud component pubsub-emulator is not installed")
    if shutil.which("java") is None:
        missing.append("java (17+) is not on PATH")
    if not storage_emulator_bin().is_file():
        missing.append(f"gcp-storage-emulator is not installed beside {sys.executable} (requirements-dev.txt)")
    tasks = tasks_emulator_bin()
    if not tasks.is_file():
        missing.append(f"the Cloud Tasks emulator is not at {tasks} (scripts/test creates .venv-tasks-emulator; "
                       "or set Z3_TASKS_EMULATOR_BIN)")
    return (not missing), "; ".join(missing)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _tcp_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class _Spec:
    name: str
    env_var: str
    argv: Callable[[int], list[str]]
    ready: Callable[[int], bool]
    env_value: Callable[[int], str] = lambda port: f"127.0.0.1:{port}"


def _launch(spec: _Spec, logs: Path, attempts: int = 2) -> tuple[_Process, int, float]:
    """Start one emulator and wait until it answers. One that exits at once is tried again on
    another port (the free port may have been taken meanwhile); one that hangs is not."""
    started = time.monotonic()
    error = ""
    for attempt in range(attempts):
        port = _free_port()
        log = logs / f"{spec.name}.log" if attempt == 0 else logs / f"{spec.name}.{attempt}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(spec.argv(port), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = _Process(spec.name, popen, log)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if spec.ready(port):
                return proc, port, time.monotonic() - started
            if popen.poll() is not None:
                break
            time.sleep(_POLL)
        proc.stop()
        exited = popen.returncode is not None
        state = f"exited with {popen.returncode}" if exited else f"did not answer within {READY_TIMEOUT:.0f}s"
        error = f"{spec.name} emulator {state} (log {log}):\n{proc.tail()}"
        if not exited:
            break
    raise EmulatorError(error)


@dataclass
class Emulators:
    project: str
    env: dict[str, str]
    startup_seconds: dict[str, float]
    log_dir: Path
    _processes: list[_Process] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, project: str, tasks_target_port: int | None = None) -> "Emulators":
        """Start Firestore, Pub/Sub, GCS and Cloud Tasks emulators in parallel."""
        ok, reason = gcloud_available()
        if not ok:
            raise EmulatorError(f"emulators unavailable: {reason}")
        logs = Path(tempfile.mkdtemp(prefix="z3-emulators-"))
        specs = _specs(tasks_target_port)
        processes: list[_Process] = []
        env: dict[str, str] = {}
        seconds: dict[str, float] = {}
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            futures = {spec.name: (spec, pool.submit(_launch, spec, logs)) for spec in specs}
            for name, (spec, future) in futures.items():
                try:
                    proc, port, took = future.result()
                except BaseException as exc:  # noqa: BLE001 - collected, others are stopped below
                    errors.append(exc)
                    continue
                processes.append(proc)
                env[spec.env_var] = spec.env_value(port)
                seconds[name] = round(took, 2)
        emulators = cls(project=project, env=env, startup_seconds=seconds, log_dir=logs, _processes=processes)
        if errors:
            emulators.stop(keep_logs=True)
            raise errors[0]
        atexit.register(emulators.stop)
        return emulators

    def reset_firestore(self) -> None:
        """Delete every document of the project (the emulator's own reset endpoint)."""
        url = (f"http://{self.env['FIRESTORE_EMULATOR_HOST']}/emulator/v1/projects/{self.project}"
               "/databases/(default)/documents")
        request = urllib.request.Request(url, method="DELETE")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self, keep_logs: bool = False) -> None:
        """Stop every emulator (its whole process group); safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        threads = [threading.Thread(target=p.stop) for p in self._processes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        atexit.unregister(self.stop)
        if not keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def _specs(tasks_target_port: int | None) -> list[_Spec]:
    root = _sdk_root()
    firestore_jar, pubsub_jar = _firestore_jar(root), _pubsub_jar(root)
    assert firestore_jar is not None and pubsub_jar is not None  # checked by gcloud_available()

    def firestore(port: int) -> list[str]:  # what `gcloud emulators firestore start` executes
        return ["java", *JVM_FLAGS, "-Duser.language=en", "-cp", str(firestore_jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start", "--host=127.0.0.1", f"--port={port}", "--database-mode=firestore-native"]

    def pubsub(port: int) -> list[str]:  # what `gcloud beta emulators pubsub start` executes
        return ["java", *JVM_FLAGS, "-cp", str(pubsub_jar), "com.google.cloud.pubsub.testing.v1.Main",
                "--host=127.0.0.1", f"--port={port}"]

    def storage(port: int) -> list[str]:
        return [str(storage_emulator_bin()), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]

    def tasks(port: int) -> list[str]:
        script = tasks_emulator_bin()
        argv = [str(_python_of(script)), "-c", _TASKS_LAUNCHER, "start", "--port", str(port),
                "--target-host", "127.0.0.1"]
        if tasks_target_port is not None:
            argv += ["--target-port", str(tasks_target_port)]
        return argv

    return [
        _Spec("firestore", "FIRESTORE_EMULATOR_HOST", firestore, lambda p: _http_ok(f"http://127.0.0.1:{p}/")),
        _Spec("pubsub", "PUBSUB_EMULATOR_HOST", pubsub, lambda p: _http_ok(f"http://127.0.0.1:{p}/")),
        _Spec("storage", "STORAGE_EMULATOR_HOST", storage,
              lambda p: _http_ok(f"http://127.0.0.1:{p}/storage/v1/b"), lambda p: f"http://127.0.0.1:{p}"),
        _Spec("tasks", "CLOUD_TASKS_EMULATOR_HOST", tasks, _tcp_ok),
    ]
