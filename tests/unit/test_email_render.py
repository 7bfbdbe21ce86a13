"""Every email template renders a subject, an HTML part and a text part; content from callers
and texts is escaped in HTML; links that are not http(s) never become links."""

from __future__ import annotations

import re

import pytest

from shared.email.render import TEMPLATES, RenderError, UnknownTemplate, render, safe_url

BASE = {"business_name": "Sunrise Plumbing", "time_zone": "America/Denver", "dashboard_url": "https://z3.example/app",
        "company_name": "Z3 Systems LLC", "company_address": "9169 W State St Suite 470, Garden City, ID 83714, USA",
        "contact_email": "privacy@z3os.com", "privacy_email": "privacy@z3os.com",
        "unsubscribe_url": "https://z3.example/email_unsubscribe?token=v1.abc.def"}
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'

CONTEXTS = {
    "call_summary": {"caller_name": EVIL, "caller_number": "+13035550142", "summary": EVIL,
                     "started_local": "Monday, March 2 at 11:05 AM MST", "duration_seconds": 184,
                     "appointments": [EVIL], "actions": [EVIL],
                     "messages": [{"name": EVIL, "callback_number": "+13035550142", "message": EVIL, "urgent": True}],
                     "has_recording": True, "has_transcript": False, "voicemail_transcript": EVIL},
    "new_voicemail": {"kind": "message_taken_by_ai", "caller_name": EVIL, "callback_number": "+13035550142",
                      "message": EVIL, "urgent": True, "taken_at": "2026-03-02T18:05:00+00:00"},
    "new_text_message": {"from": "+13035550142", "to": "+13035550100", "body": EVIL, "media_count": 2,
                         "received_at": "2026-03-02T18:05:00+00:00"},
    "team_invite": {"inviter_name": EVIL, "role": "admin", "accept_url": "https://z3.example/invite/abc",
                    "expires_in_days": 7},
    "verify_email": {"verify_url": "https://z3.example/app/verify?token=abc", "expires_in_hours": 48,
                     "business_name": EVIL},
    "password_reset": {"reset_url": "https://z3.example/reset/abc", "expires_in_minutes": 30,
                       "requested_from": EVIL, "requested_at": "2026-03-02T18:05:00Z"},
    "integration_disconnected": {"provider": "quickbooks", "provider_label": EVIL, "reason": "invalid_grant"},
    "integration_sync_failed": {"provider_label": EVIL, "kind": "invoice", "code": EVIL},
    "security_alert": {"event": EVIL, "details": EVIL, "occurred_at": "2026-03-02T18:05:00Z", "ip": "203.0.113.9",
                       "location": "Denver, CO", "device": EVIL, "action_url": "https://z3.example/app/security"},
    "billing_notice": {"kind": "payment_failed", "heading": "Your payment did not go through", "details": EVIL,
                       "invoice_number": "Z3-0002", "amount_due": "$49.00", "card": "Visa ending 4242",
                       "grace_ends": "2026-03-09T18:05:00Z", "action_url": "https://invoice.stripe.com/i/x"},
    "policy_update": {"policy_version": "2027-01", "terms_version": "2027-01", "business_name": EVIL,
                      "action_url": "https://z3.example/app/signin"},
    "privacy_request_update": {"request_id": "pr_123", "request_type": "export", "status": "completed",
                               "note": EVIL, "received_at": "2026-03-02T18:05:00Z",
                               "download_url": "https://z3.example/app/exports/pr_123"},
    "crm_endpoint_disabled": {"endpoint_id": "we_1", "endpoint_host": "hooks.example.com", "description": EVIL,
                              "failing_since": "2026-03-01T18:05:00Z", "last_status_code": 500, "last_error": None},
    "account_flagged": {"reason": EVIL, "delete_after": "2026-04-01T18:05:00Z"},
    "marketing": {"headline": EVIL, "paragraphs": [EVIL, "Second paragraph."], "cta_url": "https://z3os.com/new",
                  "cta_text": "See what's new"},
    "support_request": {"request_id": "sr_abc", "topic": "Calls and the AI receptionist", "subject": EVIL,
                        "message": EVIL, "tenant_id": "t_sunrise", "submitted_at": "2026-03-02T18:05:00+00:00"},
    "support_received": {"request_id": "sr_abc", "topic": "Billing", "subject": EVIL},
}


def test_every_template_has_a_context_here():
    assert set(CONTEXTS) == set(TEMPLATES)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_renders_subject_html_and_text_with_injected_content_escaped(template):
    out = render(template, CONTEXTS[template], base=BASE)
    assert out.subject and "\n" not in out.subject and len(out.subject) <= 150
    # HTML: the injected markup arrives as text, never as markup.
    assert "<script" not in out.html and "<img" not in out.html
    assert out.html.lstrip().lower().startswith("<!doctype html>")
    assert "Z3 Systems LLC" in out.html and "Garden City, ID 83714" in out.html
    # Text: present, readable, no HTML document.
    assert out.text.strip() and "<html" not in out.text and "<table" not in out.text
    assert "Garden City, ID 83714" in out.text


@pytest.mark.parametrize("template", ["call_summary", "new_voicemail", "new_text_message", "security_alert",
                                      "privacy_request_update", "marketing", "support_request"])
def test_injected_content_is_shown_escaped_not_dropped(template):
    out = render(template, CONTEXTS[template], base=BASE)
    assert "&lt;script&gt;alert(" in out.html
    assert '<script>alert("x")</script>' in out.text  # plain text shows it literally: harmless


def test_call_summary_shows_what_the_business_needs():
    out = render("call_summary", {**CONTEXTS["call_summary"], "caller_name": "Jordan Lee"}, base=BASE)
    assert out.subject == "Call from Jordan Lee: appointment booked"
    for part in (out.html, out.text):
        assert "(303) 555-0142" in part and "3 min 4 s" in part and "Monday, March 2 at 11:05 AM MST" in part
    assert "Urgent." in out.html and "URGENT." in out.text


def test_a_voicemail_summary_carries_the_transcription_in_both_parts():
    out = render("call_summary", {**CONTEXTS["call_summary"], "voicemail_transcript": "Please call me back."},
                 base=BASE)
    assert "Please call me back." in out.html and "Please call me back." in out.text
    assert "The voicemail" in out.html


def test_new_text_message_shows_the_text_and_local_time():
    out = render("new_text_message", {**CONTEXTS["new_text_message"], "body": "Can you come Thursday?"}, base=BASE)
    assert out.subject == "New text from (303) 555-0142"
    assert "Can you come Thursday?" in out.html and "Can you come Thursday?" in out.text
    assert "Mon, Mar 2, 11:05 AM MST" in out.text  # 18:05 UTC in Denver
    assert "2 attachments" in out.text


def test_marketing_carries_the_unsubscribe_link_in_both_parts():
    out = render("marketing", CONTEXTS["marketing"], base=BASE)
    assert 'href="https://z3.example/email_unsubscribe?token=v1.abc.def"' in out.html
    assert "https://z3.example/email_unsubscribe?token=v1.abc.def" in out.text


def test_links_that_are_not_http_never_become_links():
    context = {**CONTEXTS["password_reset"], "reset_url": "javascript:alert(document.cookie)"}
    out = render("password_reset", context, base=BASE)
    assert "javascript:" not in out.html and "javascript:" not in out.text
    assert safe_url("https://z3.example/x?y=1") == "https://z3.example/x?y=1"
    assert safe_url("http://z3.example/a b") == ""
    assert safe_url('https://x.example/"onmouseover=') == ""
    assert safe_url(None) == ""


def test_missing_values_render_empty_instead_of_failing():
    for template in TEMPLATES:
        out = render(template, {}, base=BASE)
        assert out.subject and out.text.strip()
    assert render("new_voicemail", {}, base=BASE).subject == "New voicemail from a caller"
    assert render("privacy_request_update", {}, base=BASE).subject == "Your privacy request: update"


def test_base_values_win_over_the_task_context():
    out = render("call_summary", {"business_name": "Someone Else", "dashboard_url": "https://evil.example"}, base=BASE)
    assert "Someone Else" not in out.html and "evil.example" not in out.html


def test_subject_is_one_bounded_line():
    out = render("security_alert", {"event": "line one\nline two " + "x" * 300}, base=BASE)
    assert "\n" not in out.subject and len(out.subject) == 150 and out.subject.endswith("…")


def test_unknown_template_is_refused():
    with pytest.raises(UnknownTemplate):
        render("newsletter", {}, base=BASE)


def test_render_errors_do_not_quote_the_context(monkeypatch):
    from shared.email import render as module

    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("secret caller detail")

    with pytest.raises(RenderError) as info:
        module.render("call_summary", {"summary": Boom()}, base=BASE)
    assert "secret" not in str(info.value) and "call_summary" in str(info.value)


def test_text_part_has_no_runs_of_blank_lines():
    for template in TEMPLATES:
        text = render(template, CONTEXTS[template], base=BASE).text
        assert not re.search(r"\n\s*\n\s*\n", text), template
