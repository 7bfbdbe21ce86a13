"""Cold start of the agent's functions: they import what their request path needs at instance
start, and no SDK they do not use (the Retell SDK costs seconds to import and none of them calls
Retell's API on the request path; Twilio, Stripe, Resend, Intuit are never theirs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.wsgi import REPO


def _tops_after(function: str, kind: str = "http") -> set[str]:
    probe = (f"import functions_framework\nfunctions_framework.create_app(target={function!r}, "
             f"source='functions/{function}/main.py', signature_type={kind!r})")

    def modules(code: str) -> set[str]:
        code += "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
        return set(json.loads(result.stdout.strip().splitlines()[-1]))

    return {m.split(".")[0] for m in modules(probe) - modules("pass")}


@pytest.mark.parametrize("function,kind", [("retell_webhook", "http"), ("retell_tools", "http"),
                                           ("retell_recording_copy", "http"), ("call_completed", "cloudevent")])
def test_agent_functions_import_no_provider_sdk(function, kind):
    sdks = {"retell", "twilio", "stripe", "resend", "intuitlib"}
    assert not _tops_after(function, kind) & sdks


def test_retell_tools_loads_its_request_path_at_start_up():
    tops = _tops_after("retell_tools")
    assert "phonenumbers" in tops  # callers' numbers are normalised on every tool call
