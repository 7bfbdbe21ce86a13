"""The first README command, as a person runs it: ``scripts/dev`` (here its Python entry point,
in a child process on a free port with a fresh data directory) seeds the demo business, plays
the simulated day over HTTP with real signatures through every function and sandbox, and keeps
serving. Afterwards the records say what the day did, and the logs hold no personal data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.wsgi import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("devstack")
    port = _free_port()
    out_path, err_path = data_dir / "stdout.txt", data_dir / "stderr.txt"
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_EMULATOR_HOST") and k not in ("GOOGLE_CLOUD_PROJECT", "Z3_BACKEND")}
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tools.devstack", "--port", str(port), "--data-dir",
                                 str(data_dir / "data")], cwd=REPO, stdout=out, stderr=err, env=env)
        try:
            deadline = time.monotonic() + 240
            while "Ready." not in out_path.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"scripts/dev did not get ready:\n{out_path.read_text()}\n"
                                         f"{err_path.read_text()[-3000:]}")
                time.sleep(0.5)
            import requests

            health = requests.get(f"http://127.0.0.1:{port}/_z3/health", timeout=5).json()
            yield {"stdout": out_path.read_text(), "stderr": err_path.read_text(), "health": health,
                   "data_dir": data_dir / "data"}
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def records(day):
    from shared.config import Settings
    from shared.runtime import Ports

    ports = Ports(Settings(Z3_BACKEND="local", Z3_DATA_DIR=day["data_dir"]))
    yield ports
    ports.close()


def test_the_stack_serves_every_function(day):
    functions = set(day["health"]["functions"])
    assert {"voice_answer", "voice_ivr", "voice_status", "recording_ingest", "recording_sweep", "retell_webhook",
            "retell_tools", "call_completed", "sms_inbound", "sms_status", "notify", "email_events"} <= functions
    assert {"twilio", "retell", "resend"} <= set(day["health"]["sandboxes"])


def test_the_dashboard_line_gives_a_working_sign_in(day):
    import re

    import requests

    line = next(l for l in day["stdout"].splitlines() if l.startswith("Dashboard: "))
    url, email, password = re.match(r"Dashboard: (\S+)  email (\S+)  password (\S+)$", line).groups()
    http = requests.Session()
    page = http.get(url + "signin", timeout=5)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    reply = http.post(url + "signin", data={"email": email, "password": password, "csrf_token": token}, timeout=10)
    assert reply.status_code == 200 and "Sunrise Plumbing" in reply.text


def test_every_scenario_of_the_day_played_cleanly(day):
    text = day["stdout"]
    for failure in ("Traceback", "scenario failed", "NOT stored", "has NOT run"):
        assert failure not in text, text
    assert "Booked:" in text and "chain OK" in text and "email sent to owner" in text


def test_the_records_show_the_day(records):
    from shared.ports import Query
    from shared.tenants import TenantScope
    from tools import demo, scenarios_sms

    scope = TenantScope(records.store(), demo.DEMO_TENANT)
    calls = [d.data for d in scope.query(scope.collection("calls"))]
    assert {c.get("route") for c in calls} >= {"ai", "forward", "voicemail", "rejected"}
    assert all(c.get("recording_notice_played") for c in calls if c.get("route") in ("ai", "forward", "voicemail"))
    assert [a.data["status"] for a in scope.query(scope.collection("appointments"))] == ["booked"]
    assert len(records.blobs().list(f"tenants/{demo.DEMO_TENANT}/recordings/")) >= 4

    from shared import consent

    texted = [n for n in scenarios_sms.CALLERS if scope.get(consent.state_path(n))]
    assert len(texted) == 1
    assert consent.verify_chain(scope, texted[0]).ok
    assert [e.method for e in consent.history(scope, texted[0])] == ["verbal", "keyword", "keyword"]
    sent_emails = [d.data for d in records.store().query(Query(f"tenants/{demo.DEMO_TENANT}/emails"))]
    assert any(e.get("template") == "call_summary" for e in sent_emails)


def test_the_ai_transferred_a_caller_to_a_person_who_answered(day, records):
    from shared.tenants import TenantScope
    from tools import demo, scenarios_ai

    scope = TenantScope(records.store(), demo.DEMO_TENANT)
    [call] = [d.data for d in scope.query(scope.collection("calls")) if d.data.get("from") == scenarios_ai.TRANSFER_CALLER]
    assert [(h["route"], h["reason"]) for h in call["route_history"]][-2:] == [
        ("ai", call["route_history"][0]["reason"]), ("forward", "ai_transfer")]
    transfer = call["ai_transfer"]
    assert (transfer["name"], transfer["status"], transfer["dial_status"]) == ("Dana Rivera", "answered", "completed")
    assert call["answered_by"] == "Dana Rivera" and call["status"] == "completed"
    assert call["recording_notice_played"] is True and call["retell_status"] == "ended"
    assert "AI transferred the caller to Dana Rivera" in [e["text"] for e in call["action_log"]]
    assert [r["source"] for r in call["recordings"]] == ["twilio"]  # the transferred leg, copied and stored
    assert scope.get(f"call_facts/{call['call_sid']}")["outcome"] == "transferred"
    assert "agent -> transfer_call: The call is being transferred to Dana Rivera" in day["stdout"]


def test_logs_are_json_and_hold_no_personal_data(day):
    import json
    import re

    lines = [line for line in day["stderr"].splitlines() if line.strip()]
    assert lines
    for line in lines:
        json.loads(line)  # every log line is one JSON object
    text = day["stderr"]
    assert not re.search(r"\+1\d{10}", text)
    assert "sunrise-plumbing.example" not in text
    assert "water heater" not in text.lower()  # transcript / summary content
    assert "Reply STOP" not in text  # message bodies
