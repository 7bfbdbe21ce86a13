"""The link the "your export is ready" email carries (``/app/privacy/exports/{id}``): the signed-in
owner downloads the zip; a staff member may not; another business's id and an unknown one are
404; after 7 days the link answers 410."""

from __future__ import annotations

import io
import zipfile

from shared.models.tenant import Role
from shared.privacy import requests
from tests.functions.app.conftest import add_member, sign_in


def _export(ports, business) -> str:
    made = requests.create(ports, tenant_id=business.tenant_id, kind="export", by="ops")
    requests.verify(ports, business.tenant_id, made.id, by="ops", method="reply from the account email")
    requests.run(ports, business.tenant_id, made.id)
    return made.id


def test_the_owner_downloads_the_export_until_it_expires(app_client, business, signed_in, ports, clock):
    export_id = _export(ports, business)
    reply = app_client.get(f"/privacy/exports/{export_id}")
    assert reply.status_code == 200 and reply.mimetype == "application/zip"
    assert "attachment" in reply.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(reply.data)).namelist()
    assert "README.md" in names or any(n.lower().startswith("readme") for n in names)
    assert app_client.get("/privacy/exports/pr_nothing_here").status_code == 404
    clock.advance(days=8)
    sign_in(app_client, business.owner_email)  # a week later: a new session
    assert app_client.get(f"/privacy/exports/{export_id}").status_code == 410


def test_a_staff_member_may_not_download_it(app_client, business, ports):
    export_id = _export(ports, business)
    add_member(ports, business, "tech@sunrise.example", Role.staff)
    sign_in(app_client, "tech@sunrise.example")
    assert app_client.get(f"/privacy/exports/{export_id}").status_code == 403
