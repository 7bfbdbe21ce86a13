"""The calls pages in a real browser against ``scripts/dev`` with the demo's simulated day:
sign in as the demo owner -> the overview shows the day -> open the AI-booked call -> its
transcript and action log are there and the recording plays (the audio element reaches a
duration above 0) -> a viewer-role member sees the call but cannot open the recording.
Screenshots of each page at 375 and 1280 px under build/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import run_stack
from tests.browser.support import CHROMIUM, mail_link, shot

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed (apt-get install chromium)")
WIDTHS = (375, 1280)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with run_stack(tmp_path_factory.mktemp("browser-demo"), demo=True) as (base, out):
        found = re.search(r"Dashboard: \S+ +email (\S+) +password (\S+)", out.read_text())
        assert found, out.read_text()
        yield base, found.group(1), found.group(2)


def _both_widths(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"calls-{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/app/signin")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_overview_booked_call_recording_plays_and_a_viewer_cannot(browser, demo):
    base, email, password = demo
    page = browser.new_context().new_page()
    _sign_in(page, base, email, password)
    today = page.get_by_role("region", name="Today")
    today.wait_for()
    calls_today = int(re.search(r"(\d+) calls?", today.inner_text()).group(1))
    assert calls_today > 0, today.inner_text()
    assert page.locator("svg[role=img]").count() == 2
    _both_widths(page, "overview")

    page.get_by_role("link", name="Calls", exact=True).click()
    page.get_by_role("heading", name="Calls").wait_for()
    page.get_by_label("Outcome").select_option("booked")
    page.get_by_role("button", name="Show calls").click()
    _both_widths(page, "list-booked")
    page.locator("table.calls tbody tr a").first.click()
    page.wait_for_load_state()
    _both_widths(page, "detail")
    page.get_by_role("heading", name="Recording").wait_for()
    page.get_by_role("heading", name="Transcript").wait_for()
    assert page.get_by_text(re.compile(r"AI booked ")).count() > 0  # the action log
    audio = page.locator("audio").first
    duration = audio.evaluate("""a => new Promise((done, fail) => {
        if (a.readyState >= 1) return done(a.duration);
        a.addEventListener('loadedmetadata', () => done(a.duration));
        a.addEventListener('error', () => fail(new Error('audio error ' + (a.error && a.error.code))));
        a.load();
    })""")
    assert duration > 0
    src = audio.get_attribute("src")

    page.goto(f"{base}/app/team")
    viewer = "viewer@demo-dental.example"
    page.get_by_label("Email", exact=True).fill(viewer)
    page.locator("select[name=role]").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent.").wait_for()
    detail_url = page.url
    other = browser.new_context().new_page()
    other.goto(mail_link(base, viewer, r"http://\S+/app/invite\?token=\S+"))
    other.get_by_label("Your name").fill("Vic Viewer")
    other.get_by_label("Password (at least 12 characters)").fill("quartz-lantern-violet-88")
    other.get_by_role("button", name="Accept invitation").click()
    other.get_by_role("region", name="Today").wait_for()
    call_path = re.search(r"/app/calls/[A-Za-z0-9]+", src).group(0)
    other.goto(base + call_path)
    other.get_by_text("Your role does not include recordings and transcripts.").wait_for()
    assert other.locator("audio").count() == 0
    assert other.request.get(base + src if src.startswith("/") else src).status == 403
    _both_widths(other, "detail-viewer")
    assert detail_url
