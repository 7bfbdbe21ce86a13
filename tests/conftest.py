"""Session-wide test wiring: the Google emulators start once per session (not per test).

Where the gcloud CLI (with its Firestore and Pub/Sub emulators) is missing, the gcp side of the
contract suite is skipped and the run says so loudly in its header and summary. With
``Z3_REQUIRE_EMULATORS=1`` (CI sets it when gcloud is present) a missing emulator fails the run.
"""

from __future__ import annotations

import os

import pytest

from shared.config import reset_settings

_emulator_state: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    # Tests never read the developer's environment by accident: the embedded backend, a
    # throwaway data dir per test, development secrets.
    for name in ("GOOGLE_CLOUD_PROJECT", "Z3_BACKEND", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST",
                 "STORAGE_EMULATOR_HOST", "CLOUD_TASKS_EMULATOR_HOST"):
        os.environ.pop(name, None)
    reset_settings()


def pytest_sessionstart(session: pytest.Session) -> None:
    from tests.deploy.firestore_indexes import install_recorder

    install_recorder()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Every query the suite ran has its composite index (tests/deploy/firestore_indexes.py).
    from tests.deploy.firestore_indexes import describe, load_indexes, product_shapes, unindexed

    missing = unindexed(product_shapes(), load_indexes())
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for s in missing:
            line = f"z3: FAILED: a query needs a composite index missing from terraform/firestore.indexes.json: {describe(s)}"
            reporter.write_line(line, red=True, bold=True) if reporter else print(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def emulators_required() -> bool:
    return os.environ.get("Z3_REQUIRE_EMULATORS", "") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tools.emulators import gcloud_available

    ok, reason = gcloud_available()
    if ok:
        return ["z3: Google emulators available: contract tests run on BOTH backends (local, gcp)"]
    return ["!" * 78, f"z3: GOOGLE EMULATORS UNAVAILABLE ({reason})",
            "z3: the gcp side of the contract suite will be SKIPPED; only the local backend is tested",
            "!" * 78]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    emu = _emulator_state.get("emulators")
    if emu is not None:
        secs = ", ".join(f"{k} {v:.1f}s" for k, v in getattr(emu, "startup_seconds", {}).items())
        terminalreporter.write_line(f"z3: emulators started once for the session ({secs})")
    elif _emulator_state.get("skipped"):
        terminalreporter.write_line("z3: WARNING: the gcp backend was NOT tested (emulators unavailable: "
                                    f"{_emulator_state['skipped']})", red=True, bold=True)
