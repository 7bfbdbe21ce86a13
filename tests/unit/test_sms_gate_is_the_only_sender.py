"""Nothing but the send gate calls Twilio's message API: a text that bypasses the gate would
bypass consent, quiet hours and the records. This test reads the code base to prove it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("shared", "functions", "tools", "scripts")
# Twilio's message API, however it is reached: the SDK's messages.create (any path to it) or
# a hand-made request to the Messages resource.
PATTERNS = (re.compile(r"messages\s*\.\s*create\s*\("), re.compile(r"Messages\.json"))
ALLOWED = {
    "shared/sms/gate.py",  # the gate itself
    "tools/sandboxes/twilio.py",  # the sandbox that serves Messages.json (receives, never sends)
    "tools/bench_sms.py",  # the benchmark's baseline: a direct SDK call to the sandbox, to measure the gate
}


def offenders(root: Path) -> list[str]:
    found = []
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*")):
            if not path.is_file() or path.suffix not in ("", ".py", ".sh") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            if rel in ALLOWED:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if any(p.search(line) for p in PATTERNS):
                    found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_only_the_send_gate_calls_twilios_message_api():
    assert offenders(REPO) == []


def test_the_scan_finds_a_bypass(tmp_path):
    (tmp_path / "shared" / "reminders").mkdir(parents=True)
    (tmp_path / "shared" / "reminders" / "__init__.py").write_text(
        "def remind(client):\n    client.messages .create(to='+1303', body='hi')\n")
    (tmp_path / "functions" / "x").mkdir(parents=True)
    (tmp_path / "functions" / "x" / "main.py").write_text("URL = 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages.json'\n")
    assert sorted(o.split(":")[0] for o in offenders(tmp_path)) == ["functions/x/main.py", "shared/reminders/__init__.py"]
