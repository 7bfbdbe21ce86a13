"""The dashboard in a real browser (Playwright for Python driving Debian's Chromium) against
``scripts/dev --no-demo`` in a child process: sign up -> open the verification link from the
mail viewer -> turn on 2FA -> sign out -> sign in with a TOTP code -> invite a member -> the
member accepts and signs in. A screenshot of each step goes to build/screenshots/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, _mail_link, _shot, run_stack

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with run_stack(tmp_path_factory.mktemp("browser"), demo=False) as (base, _out):
        yield base


def test_signup_verify_2fa_signin_invite_accept(browser, stack):
    import pyotp

    owner, member = "pat@harbor-bakery.example", "lee@harbor-bakery.example"
    password, member_password = "marble-orchid-tunnel-31", "cobalt-meadow-piano-64"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{stack}/app/signup")
    page.get_by_label("Business name").fill("Harbor Bakery")
    page.get_by_label("Your name").fill("Pat Quinn")
    page.get_by_label("Email", exact=True).fill(owner)
    page.get_by_label("Business phone (US)").fill("+13035550123")
    page.locator("select[name=state]").select_option("CO")
    page.locator("select[name=time_zone]").select_option("America/Denver")
    page.get_by_label("Password (at least 12 characters)").fill(password)
    page.get_by_label("I am 18 or older").check()
    _shot(page, "01-signup")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Harbor Bakery").wait_for()
    _shot(page, "02-signed-up")

    page.goto(_mail_link(stack, owner, r"http://\S+/app/verify\?token=\S+"))
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_text("Your email address is confirmed.").wait_for()
    _shot(page, "03-verified")

    page.goto(f"{stack}/app/account/security")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    page.get_by_alt_text("QR code for your authenticator app").wait_for()
    secret = page.locator("#totp-secret").inner_text()
    _shot(page, "04-2fa-qr")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Two-factor authentication is on.").first.wait_for()
    _shot(page, "05-2fa-on")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email", exact=True).fill(owner)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Authentication code").wait_for()
    _shot(page, "06-code")
    totp = pyotp.TOTP(secret)
    time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)  # the set-up code's step is spent: use the next one
    page.get_by_label("Authentication code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Harbor Bakery").wait_for()
    _shot(page, "07-signed-in-with-code")

    page.goto(f"{stack}/app/team")
    page.get_by_label("Email", exact=True).fill(member)
    page.locator("select[name=role]").select_option("staff")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent.").wait_for()
    _shot(page, "08-invited")

    other = browser.new_context().new_page()
    other.goto(_mail_link(stack, member, r"http://\S+/app/invite\?token=\S+"))
    other.get_by_label("Your name").fill("Lee Park")
    other.get_by_label("Password (at least 12 characters)").fill(member_password)
    _shot(other, "09-accept")
    other.get_by_role("button", name="Accept invitation").click()
    other.get_by_role("heading", name="Harbor Bakery").wait_for()
    other.get_by_role("button", name="Sign out", exact=True).click()
    other.get_by_label("Email", exact=True).fill(member)
    other.get_by_label("Password", exact=True).fill(member_password)
    other.get_by_role("button", name="Sign in", exact=True).click()
    other.get_by_text("Signed in as Lee Park (staff).").wait_for()
    _shot(other, "10-member-signed-in")
