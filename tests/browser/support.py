"""Helpers the browser tests share (fixtures are in conftest.py): screenshots, the mail viewer,
axe-core."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tools.wsgi import REPO

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "build" / "screenshots"
AXE = REPO / "build" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"  # scripts/vendor puts it there
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-gpu"]
WIDTHS = (375, 1280)  # a phone and a laptop

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                    reason="Debian's chromium is not installed (apt-get install chromium)")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def mail_link(base: str, to: str, pattern: str, timeout: float = 30) -> str:
    """The link matching ``pattern`` in the newest email to ``to`` (the local mail viewer)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = requests.get(f"{base}/_sandbox/resend/", timeout=5).text
        for message in re.findall(r"messages/([0-9a-fA-F\-]{36})", listing):
            text = requests.get(f"{base}/_sandbox/resend/messages/{message}/text", timeout=5).text
            page = requests.get(f"{base}/_sandbox/resend/messages/{message}", timeout=5).text
            found = re.search(pattern, text)
            if found and to in page:
                return found.group(0)
        time.sleep(0.5)
    raise AssertionError(f"no email to {to} with {pattern}")


def stack_settings(stack):
    """The stack's settings as a caller sees them: signatures over its URLs (given values win
    over this process's environment)."""
    from shared.config import Settings
    from tools.stack_env import sandbox_settings

    return Settings(**{"Z3_BACKEND": "local", "Z3_DATA_DIR": str(stack.data_dir), "PUBLIC_BASE_URL": stack.url,
                       **sandbox_settings(stack.url)})


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in through the form, by its labels; returns on the home page."""
    page.goto(f"{base}/app/signin")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base}/app/")


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's violations of ``impacts`` on the page as shown. The page's context must be made
    with ``bypass_csp=True``: the app's CSP (rightly) refuses the injected script otherwise."""
    if not AXE.exists():
        raise AssertionError(f"{AXE.relative_to(REPO)} is missing: run scripts/vendor (scripts/test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(node["target"]) for node in v["nodes"][:3]]
        lines.append(f"  {v['impact']} {v['id']}: {v['help']} at {targets}")
    return "\n".join(lines)
