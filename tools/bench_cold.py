"""``scripts/bench cold``: cold start, per function, as a caller meets it: process start to the
first answer (the interpreter, importing ``main.py`` through functions-framework's
``create_app``, and the first request, signed as the provider signs it). Prints; asserts nothing.
Goal (issue 10): a cold ``voice_answer`` answers its non-AI routes within 1.5 x a cold baseline.

Every sample is a fresh interpreter. The baseline (``tools/bench_baseline``: one document read,
fixed TwiML) is measured in the same run, one baseline sample before each sample of a function,
so both see the same machine; the table shows medians of N and the ratio to the baseline's
median. Each child also reports how much of its time was the import (``create_app``) and how
much the first request. ``voice_answer (ai + Retell)`` is the one route that waits for the
Retell SDK's background import (``shared.warmup``) and a round trip to the Retell sandbox.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from tools.bench import out
from tools.bench_voice import seed_routes, signed_call
from tools.wsgi import REPO

SAMPLES = 7

CHILD = textwrap.dedent('''
    import json, sys, time
    target, source, query, params, headers = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
    import functions_framework

    client = functions_framework.create_app(target=target, source=source).test_client()
    imported = time.time()
    response = client.post("/" + query, data=params, headers=headers)
    answered = time.time()
    print(json.dumps({"status": response.status_code, "imported": imported, "answered": answered}))
''')


def _twilio_signature(settings, function: str, query: str, params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url(function) + query, params)


Request = Callable[[], tuple[str, dict[str, str], dict[str, str]]]


def _subjects(settings, ports) -> list[tuple[str, str, str, Request]]:
    """(label, function, source, a maker of one signed first request: (query, params, headers)),
    each request a new call or message so no sample answers from another's records."""
    import uuid

    numbers = seed_routes(ports)
    ivr_tenant = "t_bench1"  # seed_routes: the IVR menu's business

    def call(route: str):
        def make():
            params, signature = signed_call(settings, numbers[route])
            return "", params, {"X-Twilio-Signature": signature}
        return make

    def menu_choice():
        params, _ = signed_call(settings, numbers["ivr menu"])
        params["Digits"] = "2"  # seed_routes' menu: 2 = voicemail
        query = "?" + urlencode({"t": ivr_tenant, "step": "menu"})
        return query, params, {"X-Twilio-Signature": _twilio_signature(settings, "voice_ivr", query, params)}

    def call_status():
        params, _ = signed_call(settings, numbers["voicemail"])
        params.update(CallStatus="completed", CallDuration="31")
        return "", params, {"X-Twilio-Signature": _twilio_signature(settings, "voice_status", "", params)}

    def text():
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": settings.twilio_account_sid,
                  "From": "+17205550199", "To": numbers["voicemail"], "Body": "Is Tuesday at 3 still good?",
                  "NumMedia": "0", "ApiVersion": "2010-04-01"}
        return "", params, {"X-Twilio-Signature": _twilio_signature(settings, "sms_inbound", "", params)}

    def baseline():
        return "", {"To": numbers["voicemail"]}, {}

    def fn(name: str) -> str:
        return str(REPO / "functions" / name / "main.py")

    return [("baseline (1 read, TwiML)", "baseline", str(REPO / "tools" / "bench_baseline" / "main.py"), baseline),
            ("voice_answer (voicemail)", "voice_answer", fn("voice_answer"), call("voicemail")),
            ("voice_answer (ivr menu)", "voice_answer", fn("voice_answer"), call("ivr menu")),
            ("voice_answer (ai + Retell)", "voice_answer", fn("voice_answer"), call("ai + Retell")),
            ("voice_ivr (menu choice)", "voice_ivr", fn("voice_ivr"), menu_choice),
            ("voice_status (completed)", "voice_status", fn("voice_status"), call_status),
            ("sms_inbound (a text)", "sms_inbound", fn("sms_inbound"), text)]


def _sample(env: dict[str, str], target: str, source: str, request: Request) -> tuple[float, float]:
    """One cold instance: (process start to first answer, of which the first request), seconds."""
    query, params, headers = request()
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, target, source, query, json.dumps(params), json.dumps(headers)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"cold {target} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not 200 <= result["status"] < 300:
        raise RuntimeError(f"cold {target} answered {result['status']}:\n{proc.stderr[-2000:]}")
    return result["answered"] - started, result["answered"] - result["imported"]


def bench(samples: int = SAMPLES) -> None:
    from shared.config import Settings
    from shared.runtime import Ports
    from tools.sandboxes.retell import RetellSandbox

    out(f"== cold: process start to first answer, median of {samples} fresh interpreters, "
        "each beside a baseline sample ==")
    with tempfile.TemporaryDirectory() as tmp, RetellSandbox() as retell_sandbox:
        values = {"Z3_BACKEND": "local", "Z3_DATA_DIR": str(Path(tmp)), "PUBLIC_BASE_URL": "https://z3.bench",
                  "RETELL_BASE_URL": retell_sandbox.url, "Z3_LOG_LEVEL": "WARNING"}
        settings = Settings(**values)
        ports = Ports(settings)
        subjects = _subjects(settings, ports)
        ports.close()
        env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")
               and k not in ("GOOGLE_CLOUD_PROJECT", "Z3_BACKEND")}
        env.update(values)
        (_, base_target, base_source, base_request), functions = subjects[0], subjects[1:]
        baseline: list[tuple[float, float]] = []
        results: dict[str, list[tuple[float, float]]] = {label: [] for label, *_ in functions}
        for _ in range(samples):
            for label, target, source, request in functions:
                baseline.append(_sample(env, base_target, base_source, base_request))
                results[label].append(_sample(env, target, source, request))
    base_total = statistics.median(s[0] for s in baseline)
    out(f"{'function':<28} {'first answer ms':>16} {'ratio':>7} {'import ms':>10} {'request ms':>11}")
    rows = [(subjects[0][0], baseline), *results.items()]
    for label, got in rows:
        total = statistics.median(s[0] for s in got)
        request = statistics.median(s[1] for s in got)
        out(f"{label:<28} {total * 1000:>16.0f} {total / base_total:>7.2f} {(total - request) * 1000:>10.0f} "
            f"{request * 1000:>11.0f}")
    out("(first answer = process start to the first response; import = up to create_app's return, interpreter "
        "start included; goal: voice_answer's voicemail and IVR routes <= 1.5 x the baseline)")


if __name__ == "__main__":
    bench()
