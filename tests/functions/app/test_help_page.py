"""The help page: a support request is stored under the tenant for 2 years, emailed to the
support address from the settings and acknowledged to the member, once per form; the privacy
policy and the terms are public pages with their versions."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shared.models.tenant import Role
from shared.ports import Query
from tests.functions.app.conftest import add_member, csrf_of, sign_in


def _form(app_client):
    page = app_client.get("/help")
    assert page.status_code == 200
    return csrf_of(page.text), re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)


def _send(app_client, csrf, form_id, **fields):
    data = {"csrf_token": csrf, "request_id": form_id, "topic": "calls", "subject": "Greeting cut off",
            "message": "Callers hear only half of our greeting since Monday."} | fields
    return app_client.post("/help", data=data)


def _requests(ports, business):
    return ports.store().query(Query(f"tenants/{business.tenant_id}/support_requests"))


def test_a_support_request_is_stored_emailed_and_acknowledged_once(app_client, signed_in, ports, business, outbox):
    csrf, request_id = _form(app_client)
    reply = _send(app_client, csrf, request_id)
    assert reply.status_code == 200 and f"reference {request_id}" in reply.text
    (stored,) = _requests(ports, business)
    assert (stored.id, stored.get("user_id"), stored.get("subject")) == (request_id, business.owner_id,
                                                                           "Greeting cut off")
    assert stored.get("expire_at") - stored.get("created_at") == dt.timedelta(days=730)
    to_support = outbox.last("support_request")
    assert to_support.to_email == ports.settings.z3_support_email
    assert to_support.context["message"] == "Callers hear only half of our greeting since Monday."
    ack = outbox.last("support_received")
    assert (ack.to_user_id, ack.to_email) == (business.owner_id, None)  # no address in the task
    # the same form sent again (a double click): one request, and the emails are the same tasks
    again = _send(app_client, csrf, request_id)
    assert "already sent" in again.text and len(_requests(ports, business)) == 1
    tasks = [t for t in outbox.sent if t.template.startswith("support")]
    assert len({t.dedup_key for t in tasks}) == 2


@pytest.mark.parametrize("fields,field", [({"subject": "x"}, "subject"), ({"message": "short"}, "message"),
                                          ({"topic": "lasers"}, "topic"), ({"request_id": "../x"}, "request_id")])
def test_an_incomplete_request_is_refused_field_by_field(app_client, signed_in, ports, business, outbox, fields,
                                                         field):
    csrf, request_id = _form(app_client)
    reply = _send(app_client, csrf, request_id, **fields)
    assert reply.status_code == 422 and f'id="err-{field}"' in reply.text
    assert not _requests(ports, business) and not outbox.sent


def test_staff_can_ask_for_help_and_a_viewer_reads_only(app_client, ports, business, outbox):
    add_member(ports, business, "staff@sunrise.example", Role.staff)
    assert sign_in(app_client, "staff@sunrise.example").status_code == 302
    csrf, request_id = _form(app_client)
    assert _send(app_client, csrf, request_id).status_code == 200
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    page = app_client.get("/help")
    assert page.status_code == 200 and "Send to support" not in page.text and "Privacy policy" in page.text
    assert _send(app_client, csrf_of(page.text), "sr_" + "a" * 24).status_code == 403


def test_the_policies_are_public_with_their_versions(app_client, ports):
    privacy = app_client.get("/legal/privacy")
    assert privacy.status_code == 200
    assert f"Version {ports.settings.z3_policy_version}" in privacy.text
    assert "<h1>Privacy Policy</h1>" in privacy.text and "<h2>Data We Collect</h2>" in privacy.text
    assert "<!--" not in privacy.text.split("<main>")[1]  # the editors' note is not published
    terms = app_client.get("/legal/terms")
    assert terms.status_code == 200 and f"Version {ports.settings.z3_terms_version}" in terms.text
    assert app_client.get("/help").status_code in (302, 401)  # the form is for signed-in members
