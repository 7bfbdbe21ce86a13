"""``scripts/bench voice``: the voice functions, measured side by side in one run. Prints; asserts
nothing. Goals (issue 3): warm p50 of ``voice_answer`` <= 1.5 x the baseline; no function imports
an SDK it does not use (``voice_answer`` never imports stripe).

1. Warm latency: ``voice_answer`` against the baseline function (``tools/bench_baseline``: one
   document read, fixed TwiML) on the embedded backend, requests interleaved so both see the
   same machine. ``voice_answer`` is measured on each route family: voicemail (no provider call),
   the IVR menu, and the AI agent (which registers the call with the Retell sandbox: one real
   HTTP round trip). Every request is a new call, signed like Twilio signs (signatures made
   outside the timing). Measured two ways:

   a. on the local stack (the goal's measurement): HTTP POSTs, one new connection each as
      Twilio's webhooks arrive, to the server ``scripts/dev`` runs (every function and sandbox
      mounted, ``tools.devstack.build_app``), with the baseline mounted beside the functions;
   b. in process, the stricter view: functions-framework's test client, no HTTP server, so the
      ratio shows the cost of our own code against the framework's floor.
2. Cold import: each voice function's ``main.py`` in a fresh interpreter
   (``python -X importtime``), against a fresh interpreter importing only the SDK modules that
   function needs; plus which SDKs each one ends up importing.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Callable

from tools.bench import baseline_client, http_post, out, paired, pct
from tools.wsgi import REPO

ROUNDS = 400
WARMUP = 40
IMPORT_RUNS = 5

# What each function needs from third parties, imported alone for the comparison.
SDK_NEEDS = {
    "voice_answer": ["functions_framework", "twilio.request_validator", "twilio.twiml.voice_response", "retell",
                     "phonenumbers"],
    "voice_ivr": ["functions_framework", "twilio.request_validator", "twilio.twiml.voice_response", "phonenumbers"],
    "voice_status": ["functions_framework", "twilio.request_validator", "phonenumbers"],
    "recording_ingest": ["functions_framework", "twilio.rest"],
}
WATCHED_SDKS = ("stripe", "retell", "resend", "intuitlib", "twilio.rest", "twilio.twiml", "google.cloud.firestore",
                "google.cloud.storage", "google.cloud.tasks_v2", "googleapiclient")
# What every function pays for the foundation (Settings, ports, HTTP skeleton, tenant models).
FOUNDATION = "import shared.runtime, shared.http, shared.tenants"




# --- warm latency ------------------------------------------------------------------------------

def _report(title: str, results: dict[str, list[float]]) -> None:
    out(title)
    base50, base99 = pct(results["baseline"], 0.5), pct(results["baseline"], 0.99)
    out(f"{'function':<28} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
    out(f"{'baseline (1 read, TwiML)':<28} {base50:>8.2f} {base99:>8.2f} {1.0:>10.2f} {1.0:>10.2f}")
    for name, samples in results.items():
        if name == "baseline":
            continue
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        out(f"{name:<28} {p50:>8.2f} {p99:>8.2f} {p50 / base50:>10.2f} {p99 / base99:>10.2f}")


def _local_stack_latency() -> None:
    """(a) HTTP to the local stack, as Twilio reaches it: a new connection per webhook."""
    import logging
    import os
    from urllib.parse import urlencode, urlsplit

    import functions_framework

    from shared import runtime
    from shared.config import get_settings, reset_settings
    from shared.runtime import Ports
    from tools.devstack import build_app
    from tools.stack_env import configure_environment
    from tools.wsgi import ServerThread

    saved = dict(os.environ)
    baseline_app = functions_framework.create_app(
        target="baseline", source=str(REPO / "tools" / "bench_baseline" / "main.py"))
    app, _names = build_app(extra={"_bench/baseline": baseline_app})
    with tempfile.TemporaryDirectory() as tmp, ServerThread(app) as server:
        configure_environment(server.url, Path(tmp))
        settings = get_settings()
        ports = runtime.use(Ports(settings))
        host, port = urlsplit(server.url).hostname, urlsplit(server.url).port

        def post(path: str, body: str, headers: dict[str, str]) -> float:
            return http_post(host, port, path, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})

        try:
            numbers = seed_routes(ports)
            logging.getLogger().setLevel(logging.WARNING)

            def pair(params: dict[str, str], signature: str) -> tuple[float, float]:
                body = urlencode(params)
                return (post("/_bench/baseline", body, {}),
                        post("/voice_answer", body, {"X-Twilio-Signature": signature}))

            results = _interleaved(settings, numbers, pair)
        finally:
            runtime.reset()
            ports.close()
            os.environ.clear()
            os.environ.update(saved)
            reset_settings()
    _report(f"-- (a) warm latency on the local stack (HTTP, as scripts/dev serves it), {ROUNDS} requests per "
            f"route after {WARMUP} warm-up, interleaved --", results)
    out("(goal: p50 ratio <= 1.5. The AI route includes a real HTTP round trip to the Retell sandbox.)")


def _warm_latency() -> None:
    _local_stack_latency()
    _in_process_latency()


def _in_process_latency() -> None:
    """(b) functions-framework's test client: no HTTP server, our code against the framework."""
    import logging

    from shared import runtime
    from shared.config import Settings
    from shared.runtime import Ports
    from tools.sandboxes.retell import RetellSandbox
    from tools.wsgi import function_app

    with tempfile.TemporaryDirectory() as tmp, RetellSandbox() as retell_sandbox:
        settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp), PUBLIC_BASE_URL="https://z3.bench",
                            RETELL_BASE_URL=retell_sandbox.url)
        ports = runtime.use(Ports(settings))
        try:
            numbers = seed_routes(ports)
            answer = function_app("voice_answer").test_client()
            baseline = baseline_client()
            # Both sides alike: the log lines would flood the output (and cost the same everywhere).
            logging.getLogger().setLevel(logging.WARNING)
            results = _interleaved(settings, numbers, lambda params, signature: paired(
                baseline, answer, "voice_answer", params, {"X-Twilio-Signature": signature}))
        finally:
            runtime.reset()
            ports.close()
    _report(f"-- (b) warm latency in process (functions-framework test client, no HTTP server), {ROUNDS} "
            f"requests per route after {WARMUP} warm-up, interleaved --", results)
    out("(the stricter view: the framework's floor is the whole baseline here, so the ratio is what our "
        "own code costs)")


def _interleaved(settings, numbers: dict[str, str],
                 pair: Callable[[dict[str, str], str], tuple[float, float]]) -> dict[str, list[float]]:
    """Each request next to a baseline request (``pair`` times both), so both see the same
    machine (load, SQLite's WAL checkpoints) at the same moments; warm-up rounds dropped."""
    results: dict[str, list[float]] = {"baseline": []}
    for i, (route, params, signature) in enumerate(_plan(settings, numbers)):
        base_s, fn_s = pair(params, signature)
        if i >= WARMUP * len(numbers):
            results["baseline"].append(base_s)
            results.setdefault(f"voice_answer ({route})", []).append(fn_s)
    return results


def _plan(settings, numbers: dict[str, str]) -> list[tuple[str, dict[str, str], str]]:
    """Rounds of one signed new call per route, the routes in a shuffled order in each round (a
    fixed order would always put the same route after the AI route's HTTP round trip)."""
    import random

    rng = random.Random(7)
    plan = []
    for _ in range(ROUNDS + WARMUP):
        routes = list(numbers.items())
        rng.shuffle(routes)
        plan.extend((route, *signed_call(settings, number)) for route, number in routes)
    return plan


def seed_routes(ports) -> dict[str, str]:
    """Three numbers of three businesses, one per route family; open all day."""
    from shared import tenants

    store = ports.store()
    all_day = {d: [{"start": "00:00", "end": "00:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    menu = {"enabled": True, "options": {"1": {"label": "sales", "action": "ai"},
                                         "2": {"label": "service", "action": "voicemail"}}}
    routes = {"voicemail": ({"open_action": "voicemail"}, "+13035550181"),
              "ivr menu": ({"ivr": menu}, "+13035550182"),
              "ai + Retell": ({}, "+13035550183")}
    numbers = {}
    for i, (route, (voice, number)) in enumerate(routes.items()):
        tenant_id = f"t_bench{i}"
        tenants.create_tenant(store, tenant_id=tenant_id, name=f"Bench {route}", contact_name="Bench",
                              contact_email=f"bench{i}@example.com", time_zone="America/Denver", numbers=[number])
        from shared.voice.settings import VoiceSettings

        store.update(f"tenants/{tenant_id}", {"settings.voice": VoiceSettings(hours=all_day, **voice).to_doc()})
        numbers[route] = number
    return numbers


def signed_call(settings, number: str) -> tuple[dict[str, str], str]:
    from twilio.request_validator import RequestValidator

    params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": settings.twilio_account_sid, "From": "+17205550199",
              "To": number, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(settings.secret("twilio_auth_token")).compute_signature(
        settings.function_url("voice_answer"), params)
    return params, signature


# --- cold imports ------------------------------------------------------------------------------

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_ms(statement: str) -> float:
    """Total import time of ``statement`` in a fresh interpreter: the sum of the top-level
    cumulative times that ``-X importtime`` reports (interpreter start-up not included)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], cwd=REPO, capture_output=True,
                          text=True, check=True)
    total = 0
    baseline = _startup_modules()
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m and len(m.group(3)) == 1 and m.group(4) not in baseline:
            total += int(m.group(2))
    return total / 1000


_startup: set[str] | None = None


def _startup_modules() -> set[str]:
    """Modules a bare interpreter imports anyway (site, encodings ...): not charged to anyone."""
    global _startup
    if _startup is None:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], cwd=REPO, capture_output=True,
                              text=True, check=True)
        _startup = {m.group(4) for line in proc.stderr.splitlines() if (m := _LINE.match(line))}
    return _startup


def _modules(statement: str) -> set[str]:
    probe = statement + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return set(proc.stdout.split())


def imported_sdks(statement: str) -> list[str]:
    """The watched SDKs ``statement`` imports. Namespace-package ``.pth`` files put empty modules
    (``intuitlib``, ``google.cloud``) into every interpreter: a bare one's modules are subtracted."""
    modules = _modules(statement) - _modules("pass")
    return [sdk for sdk in WATCHED_SDKS if sdk in modules]


def _cold_imports() -> None:
    out(f"-- cold import, median of {IMPORT_RUNS} fresh interpreters (python -X importtime) --")
    foundation = statistics.median(import_ms(FOUNDATION) for _ in range(IMPORT_RUNS))
    out(f"(for scale: the foundation every function imports -- {FOUNDATION[7:]} -- {foundation:.0f} ms)")
    out(f"{'function':<18} {'main.py ms':>11} {'SDKs only ms':>13} {'ratio':>7}  SDKs imported")
    for name, needs in SDK_NEEDS.items():
        module = f"functions.{name}.main"
        own = statistics.median(import_ms(f"import {module}") for _ in range(IMPORT_RUNS))
        sdk = statistics.median(import_ms("; ".join(f"import {m}" for m in needs)) for _ in range(IMPORT_RUNS))
        sdks = imported_sdks(f"import {module}")
        out(f"{name:<18} {own:>11.0f} {sdk:>13.0f} {own / sdk:>7.2f}  {', '.join(sdks) or '-'}")
    out("(SDKs only = " + "; ".join(f"{k}: {' '.join(v)}" for k, v in SDK_NEEDS.items()) + ")")


# --- where voice_answer's time goes (scripts/bench voice-parts) ---------------------------------

PARTS_ROUNDS = 1200


def bench_parts() -> None:
    """In process, the voicemail route: the p50 ratio with each part of ``voice_answer`` replaced
    by a no-op that returns what the real part returned for the first call (interleaved with the
    baseline as above). The drop from the full ratio is what that part costs, in baseline units.
    A diagnostic for whoever works on the in-process figure; prints, asserts nothing."""
    import contextlib
    import logging

    import shared.voice.answer as answer_module
    import shared.voice.web as web_module
    from shared import runtime
    from shared.config import Settings
    from shared.runtime import Ports
    from shared.voice.params import CallParams
    from tools.wsgi import function_app

    @contextlib.contextmanager
    def replaced(module, name: str, fake):
        real = getattr(module, name)
        setattr(module, name, fake)
        try:
            yield
        finally:
            setattr(module, name, real)

    def measure(parts: tuple[str, ...]) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=Path(tmp), PUBLIC_BASE_URL="https://z3.bench")
            ports = runtime.use(Ports(settings))
            try:
                number = seed_routes(ports)["voicemail"]
                answer, baseline = function_app("voice_answer").test_client(), baseline_client()
                logging.getLogger().setLevel(logging.WARNING)
                first, signature = signed_call(settings, number)
                paired(baseline, answer, "voice_answer", first, {"X-Twilio-Signature": signature})
                loaded = answer_module.load_for_answer(ports.store(), CallParams.parse(first), {}, first["From"])
                route = answer_module.decide(loaded.tenant, loaded.tenant.settings.voice,
                                             answer_module.Caller(first["From"], None), ports.clock().now())
                fakes = {"signature check": (web_module, "verify_twilio_request", lambda req: None),
                         "read": (answer_module, "load_for_answer", lambda *a, **k: loaded),
                         "write": (answer_module, "record_route", lambda *a, **k: True),
                         "routing decision": (answer_module, "decide", lambda *a, **k: route)}
                with contextlib.ExitStack() as stack:
                    for part in parts:
                        stack.enter_context(replaced(*fakes[part]))
                    base, fn = [], []
                    for i in range(PARTS_ROUNDS + WARMUP):
                        params, signature = signed_call(settings, number)
                        b, f = paired(baseline, answer, "voice_answer", params, {"X-Twilio-Signature": signature})
                        if i >= WARMUP:
                            base.append(b)
                            fn.append(f)
                return pct(fn, 0.5) / pct(base, 0.5)
            finally:
                runtime.reset()
                ports.close()

    out(f"-- where voice_answer's time goes: in process, voicemail route, {PARTS_ROUNDS} requests each, "
        f"each part replaced by a no-op --")
    full = measure(())
    out(f"{'voice_answer as it is':<38} p50 ratio {full:5.2f}")
    parts = ("signature check", "read", "write", "routing decision")
    for part in parts:
        ratio = measure((part,))
        out(f"{'without the ' + part:<38} p50 ratio {ratio:5.2f}   (the part: {full - ratio:+.2f})")
    out(f"{'without all four':<38} p50 ratio {measure(parts):5.2f}   (what is left: the skeleton)")


def bench(sections: tuple[str, ...] = ("warm", "imports")) -> None:
    out("== voice ==")
    steps: dict[str, Callable[[], None]] = {"warm": _warm_latency, "imports": _cold_imports}
    for section in sections:
        steps[section]()


if __name__ == "__main__":
    bench(tuple(sys.argv[1:]) or ("warm", "imports"))
