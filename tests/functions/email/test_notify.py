"""``notify`` through functions-framework, sending with the real Resend SDK to the loopback Resend
sandbox: who gets the email, what it says, that it is sent once, and what happens when Resend is
down or says no."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.email import suppression
from shared.email.addresses import address_hash
from shared.email.suppression import SuppressionReason
from tests.functions.email.support import (ADMIN, DISABLED, OWNER, STAFF, TENANT, body, emails, post_task, task)
from tests.functions.local import worker_headers


def test_call_summary_goes_to_owner_and_admins_once_each(client, business, resend, clock):
    response = post_task(client, task())
    assert response.status_code == 200
    assert sorted(a for e in resend.emails for a in e.to) == sorted([OWNER, ADMIN])  # not staff, not disabled
    email = resend.sent_to(OWNER)[0]
    assert email.subject == "Call from Jordan <b>Lee</b>: appointment booked"
    assert email.sender == "Z3 OS <notifications@z3os.local>"
    assert "Jordan &lt;b&gt;Lee&lt;/b&gt;" in email.html and "<script>" not in email.html
    assert "Water heater leaking" in email.text and "Thursday, March 5 at 2:00 PM" in email.text
    assert email.idempotency_key.startswith("z3/call_summary:CA1/")
    assert email.tags["z3_tenant"] == TENANT and "List-Unsubscribe" not in email.headers
    assert not resend.sent_to(STAFF) and not resend.sent_to(DISABLED)


def test_the_email_log_holds_status_and_ids_but_no_content(client, business, resend, clock):
    post_task(client, task())
    logs = {e["recipient"]: e for e in emails(business)}
    owner_log = logs["d***@sunrise.example"]
    sent = resend.sent_to(OWNER)[0]
    assert owner_log["status"] == "sent" and owner_log["resend_id"] == sent.id
    assert owner_log["recipient_hash"] == address_hash(OWNER) and owner_log["template"] == "call_summary"
    assert owner_log["expire_at"] == clock.now() + dt.timedelta(days=365)
    stored = repr(owner_log)
    for content in ("Water heater", "Jordan", sent.subject, OWNER, "555-0142"):
        assert content not in stored


def test_a_redelivered_task_sends_nothing_twice(client, business, resend):
    first = body(post_task(client, task()))
    second = body(post_task(client, task()))
    assert len(resend.emails) == 2
    assert [e["repeated"] for e in second["emails"]] == [True, True]
    assert {e["resend_id"] for e in first["emails"]} == {e["resend_id"] for e in second["emails"]}


def test_a_crash_after_resend_accepted_is_covered_by_the_idempotency_key(client, business, resend):
    """The first attempt reached Resend but died before recording it: the retry sends the same
    request under the same key, and Resend answers the first email instead of sending again."""
    post_task(client, task(to_email=OWNER))
    (log,) = emails(business)
    business.update(f"emails/{log['id']}", {"status": "sending", "resend_id": None})
    again = body(post_task(client, task(to_email=OWNER)))
    assert len(resend.emails) == 1
    assert again["emails"][0]["status"] == "sent" and again["emails"][0]["resend_id"] == resend.emails[0].id
    assert sum(1 for r in resend.requests if r.method == "POST") == 2


def test_explicit_recipient_and_user(client, business, resend):
    post_task(client, task("team_invite", dedup_key="invite:1", to_email="new.hire@example.com",
                           context={"inviter_name": "Dana Rivera", "role": "staff",
                                    "accept_url": "https://z3.example/invite/abc"}))
    (invite,) = resend.emails
    assert invite.to == ["new.hire@example.com"]
    assert invite.subject == "Dana Rivera invited you to Sunrise Plumbing on Z3 OS"
    assert "https://z3.example/invite/abc" in invite.text
    users = {d.get("email"): d.id for d in business.query(business.collection("users"))}
    post_task(client, task("security_alert", dedup_key="sec:1", to_user_id=users[STAFF],
                           context={"event": "New sign-in"}))
    assert resend.sent_to(STAFF)[0].subject == "Security alert: New sign-in"


def test_resend_down_answers_503_and_the_retry_sends_once(client, business, resend):
    resend.fail_next(1, status=500)
    failed = post_task(client, task(to_email=OWNER))
    assert failed.status_code == 503 and not resend.emails
    (log,) = emails(business)
    assert log["status"] == "sending"
    resend.fail_next(1, status=429, name="rate_limit_exceeded", message="Too many requests")
    assert post_task(client, task(to_email=OWNER)).status_code == 503
    assert post_task(client, task(to_email=OWNER)).status_code == 200
    assert post_task(client, task(to_email=OWNER)).status_code == 200
    assert len(resend.emails) == 1 and emails(business)[0]["status"] == "sent"


def test_resend_unreachable_answers_503(ports, settings, business, resend):
    from shared.config import Settings
    from shared.runtime import Ports
    from tools.sandboxes.resend import ResendSandbox
    from tools.wsgi import function_app
    from shared import runtime

    gone = ResendSandbox.from_settings(settings).start()
    url = gone.url
    gone.stop()
    runtime.use(Ports(Settings(**{**settings.model_dump(by_alias=True), "RESEND_API_URL": url}))
                .provide(store=ports.store(), clock=ports.clock()))
    response = function_app("notify").test_client().post("/", data=task(to_email=OWNER),
                                                         headers=worker_headers("notify", task(to_email=OWNER)))
    assert response.status_code == 503
    assert emails(business)[0]["status"] == "sending"


def test_resend_refusing_the_email_for_good_is_recorded_and_acknowledged(client, business, resend):
    resend.fail_next(1, status=422, name="validation_error", message="Invalid `to` field.")
    response = post_task(client, task(to_email=OWNER))
    assert response.status_code == 200 and body(response)["emails"][0]["status"] == "failed"
    (log,) = emails(business)
    assert log["status"] == "failed" and log["reason"] == "rejected_validation_error"
    post_task(client, task(to_email=OWNER))
    assert not resend.emails  # a failed email is not retried by a redelivered task


def test_unreadable_tasks_are_acknowledged_and_dropped(client, business, resend):
    for raw in (b"not json", b"{}", json.dumps({"tenant_id": TENANT, "template": "newsletter", "dedup_key": "x"}).encode(),
                json.dumps({"tenant_id": TENANT, "template": "call_summary", "dedup_key": "x", "version": 9}).encode(),
                json.dumps({"tenant_id": TENANT, "template": "call_summary", "dedup_key": "x", "bogus": 1}).encode()):
        response = post_task(client, raw)
        assert response.status_code == 200 and body(response)["result"] == "dropped", raw
    assert not resend.emails and not emails(business)


def test_unknown_business_is_acknowledged(client, business, resend):
    response = post_task(client, task(tenant_id="t_gone"))
    assert response.status_code == 200 and body(response)["emails"] == []
    assert not resend.emails


def test_suppressed_address_is_not_sent_and_recorded_as_blocked(client, business, resend, ports, clock):
    suppression.suppress(ports.store(), OWNER, SuppressionReason.bounced, clock.now())
    result = body(post_task(client, task()))
    assert [e.to for e in resend.emails] == [[ADMIN]]
    blocked = [e for e in result["emails"] if e["status"] == "blocked"]
    assert len(blocked) == 1 and blocked[0]["reason"] == "suppressed_bounced"
    owner_log = next(e for e in emails(business) if e["recipient_hash"] == address_hash(OWNER))
    assert owner_log["status"] == "blocked" and owner_log["resend_id"] is None


def test_a_lapsed_suppression_no_longer_blocks(client, business, resend, ports, clock):
    suppression.suppress(ports.store(), OWNER, SuppressionReason.bounced, clock.now() - dt.timedelta(days=400))
    post_task(client, task(to_email=OWNER))
    assert resend.sent_to(OWNER)


MARKETING = {"headline": "New: texts in your dashboard", "paragraphs": ["Reply to callers by text."],
             "cta_url": "https://z3os.com/new", "cta_text": "See what's new"}


def test_marketing_is_not_sent_without_the_business_opting_in(client, business, resend):
    result = body(post_task(client, task("marketing", dedup_key="mkt:2026-03", context=MARKETING)))
    assert not resend.emails
    assert {e["status"] for e in result["emails"]} == {"blocked"}
    assert {e["reason"] for e in result["emails"]} == {"marketing_not_opted_in"}


def test_marketing_to_an_opted_in_business_has_one_click_unsubscribe(client, business, resend, ports):
    ports.store().update(business.root, {"settings.marketing_email_opt_in": True})
    post_task(client, task("marketing", dedup_key="mkt:2026-03", context=MARKETING))
    assert len(resend.emails) == 2
    email = resend.sent_to(OWNER)[0]
    link = email.headers["List-Unsubscribe"]
    assert link.startswith("<https://z3.example/email_unsubscribe?token=v1.") and link.endswith(">")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link[1:-1] in email.text and link[1:-1].replace("&", "&amp;") in email.html
    assert resend.sent_to(ADMIN)[0].headers["List-Unsubscribe"] != link  # one link per recipient


def test_a_closed_business_only_gets_privacy_updates(client, business, resend, ports):
    ports.store().update(business.root, {"status": "closed"})
    post_task(client, task())
    post_task(client, task("privacy_request_update", dedup_key="privacy:pr_1", to_email=OWNER,
                           context={"request_id": "pr_1", "request_type": "deletion", "status": "completed"}))
    assert [e.subject for e in resend.emails] == ["Your privacy request pr_1: completed"]


def test_a_refused_api_key_is_retried_not_dropped(ports, settings, business, resend):
    """401/403 from Resend is our configuration fault: answer 503 so the email waits for the fix."""
    from shared import runtime
    from shared.config import Settings
    from shared.runtime import Ports
    from tools.wsgi import function_app

    runtime.use(Ports(Settings(**{**settings.model_dump(by_alias=True), "RESEND_API_KEY": "re_wrong"}))
                .provide(store=ports.store(), clock=ports.clock()))
    response = function_app("notify").test_client().post("/", data=task(to_email=OWNER),
                                                         headers=worker_headers("notify", task(to_email=OWNER)))
    assert response.status_code == 503 and not resend.emails
    assert [r.status for r in resend.requests] == [403]
    assert emails(business)[0]["status"] == "sending"


def test_no_address_subject_or_context_reaches_the_logs(client, business, resend, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    post_task(client, task())
    post_task(client, task("new_text_message", dedup_key="sms:SM1",
                           context={"from": "+13035550142", "body": "My basement is flooding"}))
    post_task(client, b"{\"tenant_id\": \"t_sunrise\", \"template\": \"call_summary\", \"context\": "
                      b"{\"summary\": \"Secret plans\"}}")  # unreadable (no dedup_key): its content is not logged
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "email sent" in logged
    for secret in (OWNER, ADMIN, "Jordan", "Water heater", "basement", "5550142", "555-0142", "Secret plans",
                   resend.sent_to(OWNER)[0].subject):
        assert secret not in logged, secret


# --- Resend's error names, through the SDK and the sandbox's error shapes ------------------------------

@pytest.mark.parametrize("status, name, message, alert", [
    (429, "daily_quota_exceeded", "You have reached your daily email sending quota.", "quota"),
    (429, "monthly_quota_exceeded", "You have reached your monthly email sending quota.", "quota"),
    (403, "validation_error", "The z3os.local domain is not verified. Please, add and verify your domain.", "domain"),
    (403, "validation_error", "You can only send testing emails to your own email address.", "domain"),
    (422, "invalid_from_address", "Invalid `from` field.", "domain"),
])
def test_quota_and_domain_refusals_are_recorded_and_alerted(client, business, resend, caplog, status, name,
                                                            message, alert):
    import logging

    from shared.email.mailer import ALERTS

    resend.fail_next(1, status=status, name=name, message=message)
    with caplog.at_level(logging.INFO, logger="z3.email"):
        response = post_task(client, task(to_email=OWNER))
    assert response.status_code == 200 and body(response)["emails"][0]["status"] == "failed"
    (log,) = emails(business)
    assert log["status"] == "failed" and log["reason"] == f"rejected_{name}"
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.getMessage() == ALERTS[alert]
    assert OWNER not in caplog.text and message not in caplog.text  # Resend's message may quote addresses
    post_task(client, task(to_email=OWNER))
    assert not resend.emails  # recorded as refused: a redelivered task does not send it


@pytest.mark.parametrize("status, name", [(429, "rate_limit_exceeded"), (500, "application_error"),
                                          (502, "internal_server_error"), (403, "invalid_api_key")])
def test_what_can_succeed_later_is_retried(client, business, resend, status, name):
    resend.fail_next(1, status=status, name=name, message="try again")
    assert post_task(client, task(to_email=OWNER)).status_code == 503
    assert emails(business)[0]["status"] == "sending"
    assert post_task(client, task(to_email=OWNER)).status_code == 200
    assert len(resend.emails) == 1


def test_the_members_chosen_on_the_settings_page_get_that_notification(client, business, resend, ports):
    from shared.tenants import business_settings

    users = {d.get("email"): d.id for d in business.query(business.collection("users"))}
    business_settings.update(ports.store(), ports.clock().now(), tenant_id=TENANT, actor_user_id=users[OWNER],
                             changes={"notification_recipients": {"new_voicemail": [users[STAFF], users[DISABLED]]}})
    post_task(client, task("new_voicemail", dedup_key="vm:1", context={"caller": "Jordan"}))
    assert [a for e in resend.emails for a in e.to] == [STAFF]  # not the disabled one, not the owner
    post_task(client, task(dedup_key="summary:2"))  # another template: owners and admins as before
    assert sorted(a for e in resend.emails[1:] for a in e.to) == sorted([OWNER, ADMIN])
    ports.store().update(f"tenants/{TENANT}/users/{users[STAFF]}", {"status": "disabled"})
    post_task(client, task("new_voicemail", dedup_key="vm:2", context={"caller": "Jordan"}))
    assert sorted(a for e in resend.emails[3:] for a in e.to) == sorted([OWNER, ADMIN])  # nobody left: the default
