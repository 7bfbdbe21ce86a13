"""A cold ``voice_answer`` instance imports the Retell SDK in the background: its voicemail and
IVR answers do not wait for that import, the AI route does, and an import that failed is raised
on the AI route (500: Twilio then calls the Fallback URL, which takes a voicemail) rather than
lost. Each case is a fresh interpreter (a cold instance) whose import of ``retell`` is held back
or broken by an import hook, answering signed Twilio requests through functions-framework."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tools.bench_voice import seed_routes, signed_call
from tools.wsgi import REPO

CHILD = textwrap.dedent('''
    import importlib.abc, importlib.machinery, json, sys, threading

    mode, plan = sys.argv[1], json.loads(sys.argv[2])
    released, began, executed = threading.Event(), threading.Event(), threading.Event()

    class RetellLoader(importlib.abc.Loader):
        """Runs the real SDK package only once released (or fails it): held in exec_module,
        where an import holds only its own module's lock, not the interpreter's import lock."""

        def __init__(self, real):
            self.real = real

        def create_module(self, spec):
            return self.real.create_module(spec)

        def exec_module(self, module):
            began.set()
            if mode == "broken":
                raise ImportError("retell cannot be imported")
            if mode == "held":
                released.wait(15)  # held back until the non-AI answers are in
            self.real.exec_module(module)
            executed.set()

    class RetellFinder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "retell":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            spec.loader = RetellLoader(spec.loader)
            return spec

    sys.meta_path.insert(0, RetellFinder())
    import functions_framework

    client = functions_framework.create_app(target="voice_answer",
                                            source="functions/voice_answer/main.py").test_client()
    answers = {}
    for route, params, signature in plan:
        if route.startswith("ai"):
            released.set()
        response = client.post("/", data=params, headers={"X-Twilio-Signature": signature})
        answers[route] = {"status": response.status_code, "twiml": response.get_data(as_text=True),
                          "retell_began": began.is_set(), "retell_loaded": executed.is_set()}
    if mode == "free":
        answers["afterwards"] = {"retell_loaded": executed.wait(10)}
    print(json.dumps(answers))
''')


@pytest.fixture
def plan(settings, ports):
    numbers = seed_routes(ports)
    ports.close()
    return [(route, *signed_call(settings, numbers[route])) for route in ("voicemail", "ivr menu", "ai + Retell")]


def _cold_instance(settings, plan, mode: str) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")
           and k not in ("GOOGLE_CLOUD_PROJECT", "Z3_BACKEND")}
    env.update(Z3_BACKEND="local", Z3_DATA_DIR=str(settings.z3_data_dir), PUBLIC_BASE_URL=settings.public_base_url,
               RETELL_BASE_URL=settings.retell_base_url)
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, json.dumps(plan)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_voicemail_and_ivr_answer_before_the_retell_sdk_is_imported(settings, plan, retell_sandbox):
    answers, _logs = _cold_instance(settings, plan, "held")
    for route in ("voicemail", "ivr menu"):
        assert answers[route]["status"] == 200, answers[route]
        assert answers[route]["retell_loaded"] is False  # answered while the SDK's import was still held
    assert "<Record" in answers["voicemail"]["twiml"] and "<Gather" in answers["ivr menu"]["twiml"]
    ai = answers["ai + Retell"]
    assert ai["status"] == 200 and ai["retell_loaded"] and "@sip.retellai.com</Sip>" in ai["twiml"]
    assert len(retell_sandbox.calls) == 1


@pytest.mark.parametrize("first", [[], ["voicemail"]], ids=["idle instance", "started by a voicemail call"])
def test_the_sdk_import_begins_after_the_first_answer_and_finishes_without_an_ai_call(settings, plan, first):
    # The import shares the interpreter with the call that started the instance: begun before
    # that call is answered, it would slow the answer down. Idle, the instance imports anyway.
    answers, _logs = _cold_instance(settings, [p for p in plan if p[0] in first], "free")
    if first:
        assert answers["voicemail"]["status"] == 200 and answers["voicemail"]["retell_began"] is False
    assert answers["afterwards"]["retell_loaded"] is True


def test_a_failed_background_import_fails_the_ai_route_only_and_is_logged(settings, plan, retell_sandbox):
    answers, logs = _cold_instance(settings, plan, "broken")
    assert answers["voicemail"]["status"] == 200 and "<Record" in answers["voicemail"]["twiml"]
    assert answers["ivr menu"]["status"] == 200
    assert answers["ai + Retell"]["status"] == 500  # not a silent voicemail: Twilio's Fallback URL takes over
    assert retell_sandbox.calls == {}
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(e["message"] == "background import failed" and e["severity"] == "ERROR"
               and "retell cannot be imported" in e.get("stack_trace", "") for e in events)
    assert any("BackgroundImportFailed" in e.get("stack_trace", "") for e in events)  # re-raised on the AI route
