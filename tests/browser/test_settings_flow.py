"""The settings in a real browser against the demo stack: the owner changes the greeting and a
new simulated call (a signed voice_answer, as Twilio posts it) is greeted with it by the AI
agent; the owner changes the business hours and the route preview follows; a viewer-role member
cannot open the settings. Screenshots at 375 and 1280 px under build/screenshots/."""

from __future__ import annotations

import requests

from tests.browser.support import WIDTHS, mail_link, needs_chromium, shot, sign_in, stack_settings

pytestmark = needs_chromium

GREETING = "Thanks for calling Sunrise Plumbing, now booking Saturday repairs."
VIEWER = "viewer@sunrise-plumbing.example"
VIEWER_PASSWORD = "lantern-quartz-meadow-77"


def _new_call_greeting(stack) -> str:
    from tools.demo import DEMO_NUMBER
    from tools.scenarios_voice import SimulatedCall

    call = SimulatedCall(stack.url, stack_settings(stack), caller="+17205550188", to=DEMO_NUMBER)
    root = call.answer()
    sip = root.find("Dial/Sip")
    assert sip is not None, "the AI agent did not answer the new call"
    call_id = sip.text.removeprefix("sip:").split("@")[0]
    call.status("completed", 40)
    calls = requests.get(f"{stack.url}/_sandbox/retell/_control/calls", timeout=10).json()["calls"]
    (registered,) = [c for c in calls if c.get("call_id") == call_id]
    return registered["retell_llm_dynamic_variables"]["greeting"]


def _preview(page) -> str:
    page.get_by_label("Caller number (empty: no caller id)").fill("+1 602 555 0111")
    page.get_by_label("Day", exact=True).select_option("sat")
    page.get_by_label("Time", exact=True).fill("21:00")
    page.get_by_role("button", name="Preview the route").click()
    return page.locator("#preview-summary").inner_text()


def test_greeting_reaches_the_next_call_hours_move_the_preview_viewer_is_kept_out(browser, demo_stack):
    page = browser.new_context().new_page()
    sign_in(page, demo_stack.url, demo_stack.email, demo_stack.password)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Settings", exact=True).wait_for()

    assert _new_call_greeting(demo_stack) != GREETING
    page.get_by_label("Greeting", exact=True).fill(GREETING)
    page.get_by_role("button", name="Save greeting").click()
    page.get_by_text("Saved. The next call follows the new settings.").wait_for()
    assert _new_call_greeting(demo_stack) == GREETING

    before = _preview(page)
    assert before.startswith("The AI receptionist answers"), before  # closed on Saturdays: the AI after hours
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"settings-preview-closed-{width}")
    page.get_by_label("Saturday hours").fill("18:00-23:00")
    page.get_by_label("During business hours", exact=True).select_option("forward")
    page.get_by_role("button", name="Save hours").click()
    page.get_by_text("Saved. The next call follows the new settings.").wait_for()
    after = _preview(page)
    assert after.startswith("The call rings Dana Rivera, Lee Park"), after
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"settings-preview-open-{width}")

    page.get_by_label("Saturday hours").fill("25:00-23:00")  # a bad time: a field error, nothing saved
    page.get_by_role("button", name="Save hours").click()
    page.get_by_text("Nothing was saved: check the marked fields.").wait_for()
    assert page.get_by_label("Saturday hours").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Saturday hours").input_value() == "18:00-23:00"  # the saved value is shown again

    page.goto(f"{demo_stack.url}/app/team")  # a viewer joins the team the way every member does
    page.get_by_label("Email", exact=True).fill(VIEWER)
    page.locator("select[name=role]").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent.").wait_for()
    page.context.close()
    viewer = browser.new_context().new_page()
    viewer.goto(mail_link(demo_stack.url, VIEWER, r"http://\S+/app/invite\?token=\S+"))
    viewer.get_by_label("Your name").fill("Vic Viewer")
    viewer.get_by_label("Password (at least 12 characters)").fill(VIEWER_PASSWORD)
    viewer.get_by_role("button", name="Accept invitation").click()
    viewer.get_by_text("Signed in as Vic Viewer (viewer).").wait_for()
    assert viewer.get_by_role("link", name="Settings").count() == 0
    response = viewer.goto(f"{demo_stack.url}/app/settings")
    assert response.status == 403
    shot(viewer, "settings-viewer-refused-1280")
    viewer.context.close()
