"""Cold start: importing the shared library pulls in no Google or provider client."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("google.cloud", "google.api_core", "grpc", "twilio", "stripe", "retell", "resend", "intuitlib")


def _modules(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _imported_after(code: str) -> list[str]:
    # Namespace-package .pth files create empty 'google.cloud' / 'intuitlib' modules at interpreter
    # start: they cost nothing and are not what we look for, so subtract a bare interpreter's set.
    added = _modules(code) - _modules("pass")
    return sorted(m for m in added if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_shared_imports_no_client_sdk():
    assert _imported_after(
        "import shared, shared.config, shared.ports, shared.runtime, shared.events, shared.logging, "
        "shared.http, shared.worker, shared.idempotency, shared.tenants, shared.phone, shared.notifications, "
        "shared.adapters.local, shared.adapters.gcp"
    ) == []


def test_settings_and_runtime_build_no_client_until_a_port_is_used():
    assert _imported_after(
        "from shared import runtime\nruntime.settings()\n"
    ) == []


def test_voice_answer_leaves_the_retell_sdk_to_its_background_import():
    # The instance's own thread imports what every answer needs (twilio's validator and TwiML);
    # retell (~1.5 s) only arrives through the background import (shared.warmup), held off here.
    imported = _imported_after(
        "from shared import warmup\nwarmup.start = lambda name, load: None\n"
        "import functions.voice_answer.main\n"
    )
    assert not [m for m in imported if m == "retell" or m.startswith("retell.")]
    assert "twilio.request_validator" in imported and "twilio.twiml.voice_response" in imported
