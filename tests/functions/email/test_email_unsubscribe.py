"""``email_unsubscribe``: the one-click link of a marketing email turns the business's marketing
email off; forged and expired links change nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.functions.email.support import OWNER, body, post_task, task

MARKETING = {"headline": "New: texts in your dashboard", "paragraphs": ["Reply to callers by text."]}


def _opted_in(ports, scope) -> bool:
    return bool(ports.store().get(scope.root)["settings"]["marketing_email_opt_in"])


def _marketing_link(client, resend, ports, scope, dedup_key="mkt:2026-03") -> str:
    ports.store().update(scope.root, {"settings.marketing_email_opt_in": True})
    post_task(client, task("marketing", dedup_key=dedup_key, context=MARKETING))
    header = resend.sent_to(OWNER)[-1].headers["List-Unsubscribe"]
    parts = urlsplit(header.strip("<>"))
    assert parts.path == "/email_unsubscribe"
    return "/?" + parts.query


def test_one_click_post_unsubscribes_and_the_next_marketing_email_is_not_sent(client, business, resend, ports):
    path = _marketing_link(client, resend, ports, business)
    response = client("email_unsubscribe").post(path, data="List-Unsubscribe=One-Click",
                                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert not _opted_in(ports, business)
    record = business.get("email_preferences/marketing")
    assert record["opted_in"] is False and record["method"] == "one_click"
    # Idempotent: a second click changes nothing and still says so.
    assert client("email_unsubscribe").post(path, data="List-Unsubscribe=One-Click").status_code == 200
    sent_before = len(resend.emails)
    result = body(post_task(client, task("marketing", dedup_key="mkt:2026-04", context=MARKETING)))
    assert len(resend.emails) == sent_before
    assert {e["reason"] for e in result["emails"]} == {"marketing_not_opted_in"}
    # Transactional email keeps coming.
    post_task(client, task(dedup_key="call_summary:CA9"))
    assert len(resend.emails) == sent_before + 2


def test_a_visit_shows_a_button_and_changes_nothing(client, business, resend, ports):
    """Link scanners open links: GET must not unsubscribe (RFC 8058)."""
    path = _marketing_link(client, resend, ports, business)
    response = client("email_unsubscribe").get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<form method="post"' in page and "Sunrise Plumbing" in page
    assert _opted_in(ports, business)


def test_forged_links_are_refused(client, business, resend, ports):
    path = _marketing_link(client, resend, ports, business)
    token = path.split("token=", 1)[1]
    version, payload, mac = token.split(".")
    for bad in (f"/?token={version}.{payload}.{mac[:-3]}AAA", "/?token=nonsense", "/"):
        response = client("email_unsubscribe").post(bad, data="List-Unsubscribe=One-Click")
        assert response.status_code == 403, bad
    assert _opted_in(ports, business)


def test_expired_links_are_refused(client, business, resend, ports, clock):
    path = _marketing_link(client, resend, ports, business)
    clock.advance(days=91)
    response = client("email_unsubscribe").post(path, data="List-Unsubscribe=One-Click")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert _opted_in(ports, business)


def test_a_link_for_a_business_that_is_gone_is_harmless(client, business, resend, ports):
    path = _marketing_link(client, resend, ports, business)
    ports.store().delete(business.root)
    assert client("email_unsubscribe").post(path, data="List-Unsubscribe=One-Click").status_code == 200
    assert ports.store().get(business.root) is None
