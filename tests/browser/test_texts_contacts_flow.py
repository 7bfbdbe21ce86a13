"""Texts and contacts in a real browser against the demo stack.

Texting: two callers text the business's number the way Twilio posts it (signed
``sms_inbound``): one texts START (opted in by their own keyword), the other START then STOP
(opted out). The owner sends each a text from the Texts page: the first is sent and its thread
shows it, the second is refused with the gate's reason, and nothing reaches the carrier. The
quiet-hours rule is real time: the opted-in caller is chosen among numbers whose time zone is
now inside 8 a.m.-9 p.m.; when none is (07:00-13:00 UTC), the page must show the quiet-hours
refusal instead.

Contacts: the owner imports a CSV with one row whose number is not a US number; the report names
that row and its reason, the good rows are contacts, and none of them is opted in to texts.
Screenshots at 375 and 1280 px under build/screenshots/."""

from __future__ import annotations

import datetime as dt

from tests.browser.support import WIDTHS, needs_chromium, shot, sign_in, stack_settings

pytestmark = needs_chromium

# One caller per zone, east to west (Honolulu last): the first whose 8 a.m.-9 p.m. holds now.
OPT_IN_CANDIDATES = ("+12125550171", "+13125550171", "+13035550171", "+14155550171", "+18085550171")
OPTED_OUT = "+16175550172"


def _texts_the_business(stack, sender: str, body: str) -> None:
    from tools.demo import DEMO_NUMBER
    from tools.scenarios_sms import _post_text

    status, _sid = _post_text(stack.url, stack_settings(stack), sender, DEMO_NUMBER, body)
    assert status == 200, (body, status)


def _carrier_sends(stack) -> list[str]:
    """The bodies the Twilio sandbox was asked to send (the carrier's side), listed with the
    Twilio SDK as any Twilio client would."""
    from shared.providers import twilio

    return [m.body for m in twilio.client(stack_settings(stack)).messages.list(page_size=1000)]


def _send_from_the_texts_page(page, base: str, number: str, body: str) -> None:
    page.goto(f"{base}/app/texts")
    page.get_by_label("To (phone number)").fill(number)
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send text").click()
    page.wait_for_load_state()


def _both_widths(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"{name}-{width}")


def test_an_opted_in_number_gets_the_text_an_opted_out_one_is_refused(browser, demo_stack):
    from shared.sms.timezones import allowed_at, recipient_zones

    now = dt.datetime.now(dt.UTC)
    awake = [n for n in OPT_IN_CANDIDATES if allowed_at(now, recipient_zones(n, "America/Denver"))]
    opted_in = awake[0] if awake else OPT_IN_CANDIDATES[0]
    _texts_the_business(demo_stack, opted_in, "START")
    _texts_the_business(demo_stack, OPTED_OUT, "START")
    _texts_the_business(demo_stack, OPTED_OUT, "STOP")

    page = browser.new_context().new_page()
    sign_in(page, demo_stack.url, demo_stack.email, demo_stack.password)
    sent_before = len(_carrier_sends(demo_stack))

    body = "Sunrise Plumbing: your technician is on the way."
    _send_from_the_texts_page(page, demo_stack.url, opted_in, body)
    if awake:
        page.get_by_text("Sent. The delivery status updates as the carrier reports it.").wait_for()
        page.locator("ol.thread").get_by_text(body).wait_for()
        assert body in _carrier_sends(demo_stack)
    else:
        page.get_by_role("alert").get_by_text("Not sent: quiet hours in the recipient's time zone").wait_for()
    _both_widths(page, "texts-thread")

    refused = "Sunrise Plumbing: a special offer for you."
    _send_from_the_texts_page(page, demo_stack.url, OPTED_OUT, refused)
    page.get_by_role("alert").get_by_text("Not sent: this number has opted out of texts").wait_for()
    assert page.get_by_role("textbox", name="Message").input_value() == refused  # the draft is kept
    assert refused not in _carrier_sends(demo_stack)
    assert len(_carrier_sends(demo_stack)) == sent_before + (1 if awake else 0)
    _both_widths(page, "texts-refused")
    page.context.close()


def test_a_csv_import_reports_its_bad_row_and_opts_no_one_in(browser, demo_stack):
    page = browser.new_context().new_page()
    sign_in(page, demo_stack.url, demo_stack.email, demo_stack.password)
    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("heading", name="Contacts", exact=True).wait_for()
    csv = (b"name,phone\n"
           b"Maya Lopez,(720) 555-0181\n"
           b"Not A Number,+44 20 7946 0958\n"
           b"Owen Brooks,720.555.0182\n")
    page.get_by_label("CSV file (columns: name, phone)").set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": csv}])
    page.get_by_role("button", name="Import contacts").click()
    report = page.get_by_role("status").filter(has_text="Import report")
    report.get_by_text("Imported 2 of 3 rows. 1 skipped:").wait_for()
    row = report.locator("tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts() == ["3", "invalid US number"]  # the header is row 1
    contacts = page.locator("table.contacts")
    contacts.get_by_role("link", name="Maya Lopez").wait_for()
    contacts.get_by_role("link", name="Owen Brooks").wait_for()
    assert contacts.get_by_text("Not A Number").count() == 0
    _both_widths(page, "contacts-import-report")

    # An imported contact is not opted in: a text to them is refused for want of consent.
    _send_from_the_texts_page(page, demo_stack.url, "(720) 555-0181", "Sunrise Plumbing: welcome!")
    page.get_by_role("alert").get_by_text("Not sent: this number has not opted in to texts from your business.").wait_for()
    page.context.close()
