"""Settings → Integrations in a real browser against the demo stack: the demo owner opens the page
from Settings and finds QuickBooks connected (the simulated day connected it), sets the invoice
item, disconnects (revoked at Intuit), then clicks Connect QuickBooks Online: the Intuit sandbox
(the stack's own, under /_sandbox/intuit) approves and redirects through ``oauth_callback`` back
to the page, which says "Connected". Then a CRM endpoint pointing at a loopback CRM receiver is
added beside the day's (its secret shown once), a test event reaches the receiver signed, and
the delivery log shows it. Screenshots at 375 and 1280 px."""

from __future__ import annotations

import re

from tests.browser.support import WIDTHS, needs_chromium, shot, sign_in

pytestmark = needs_chromium


def _shots(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"{name}-{width}")


def test_the_owner_connects_and_disconnects_quickbooks_and_adds_a_crm_endpoint(browser, demo_stack):
    from tools.sandboxes.crm import CrmReceiver

    page = browser.new_context().new_page()
    sign_in(page, demo_stack.url, demo_stack.email, demo_stack.password)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_role("heading", name="Integrations", exact=True).wait_for()
    quickbooks = page.locator("#quickbooks")
    assert "Company " in quickbooks.inner_text()  # the simulated day connected the demo company
    _shots(page, "integrations-connected")

    page.get_by_label("Service to invoice").select_option("2")  # the company's services, asked of Intuit
    page.get_by_label("Rate per appointment (USD)").fill("95")
    page.get_by_role("button", name="Save invoice item").click()
    page.get_by_text("invoiced as QuickBooks item 2 at $95.00").wait_for()

    page.get_by_role("button", name="Disconnect QuickBooks Online").click()
    page.get_by_text("access revoked at Intuit and the tokens deleted").wait_for()
    assert "Not connected" in page.locator("#quickbooks").inner_text()
    _shots(page, "integrations-disconnected")

    page.get_by_role("button", name="Connect QuickBooks Online").click()  # → Intuit → oauth_callback → back here
    page.wait_for_url(re.compile(r"/app/settings/integrations\?connected=quickbooks$"))
    page.get_by_text("QuickBooks Online is connected.").wait_for()
    assert quickbooks.inner_text().count("Connected") >= 1 and "Company " in quickbooks.inner_text()

    with CrmReceiver() as receiver:
        url = receiver.url + receiver.hook("demo")
        page.get_by_label("Endpoint URL").fill(url)
        page.get_by_label("A voicemail or message was left").uncheck()
        page.get_by_label("Description (optional)").fill("Our CRM")
        page.get_by_role("button", name="Add endpoint").click()
        page.get_by_text("Copy its signing secret now").wait_for()
        secret = page.locator("code.secret-value").inner_text().strip()
        assert secret.startswith("whsec_")
        _shots(page, "integrations-crm-secret")
        receiver.use_secret("demo", secret)
        mine = page.locator("ul.endpoints > li").filter(has_text=url)
        mine.get_by_role("button", name="Send test event").click()
        page.get_by_text("Test event delivered").wait_for()
        [event] = receiver.events("demo")
        assert event["type"] == "webhook.test"
    assert secret not in page.content()  # the answer to the add showed it; nothing shows it again
    page.locator("ul.endpoints > li").filter(has_text=url).get_by_role("link", name="Delivery log").click()
    page.get_by_role("heading", name="CRM delivery log").wait_for()
    assert "webhook.test" in page.inner_text("table") and "delivered" in page.inner_text("table")
    _shots(page, "integrations-crm-log")
    page.context.close()
