"""The Contacts pages through the real app: CSV import with its validation report (row number
and reason), E.164 normalisation and deduplication, never an opt-in; search (posted, never in
the URL), edit, delete (audited), roles, another business's ids."""

from __future__ import annotations

import io
import re

from shared import consent
from shared.accounts import audit
from shared.contacts import ids
from shared.models.tenant import Role
from shared.tenants import TenantScope
from tests.functions.app.conftest import add_member, csrf_of, make_business, sign_in

CSV = (b"Name,Phone\n"
       b"Ana Lopez,(303) 555-0150\n"
       b"Ben Ito,303.555.0151\n"
       b",303-555-0152\n"                       # row 4: no name
       b"Cal Moss,555-0153\n"                   # row 5: not a US number
       b"Ana L.,+1 303 555 0150\n"              # row 6: the same number as row 2
       b"\n"
       b"Dee Park,+13035550154\n")


def _import(app_client, data: bytes, filename: str = "contacts.csv"):
    page = app_client.get("/contacts")
    return app_client.post("/contacts/import", data={"csrf_token": csrf_of(page.text),
                                                     "file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")


def _rows(html: str) -> list[tuple[str, str]]:
    report = html.split('id="import-report"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", report)


def test_import_reports_each_bad_row_and_imports_the_good_ones_without_opting_anyone_in(app_client, signed_in,
                                                                                        business, ports):
    reply = _import(app_client, CSV)
    assert reply.status_code == 200
    assert "Imported 3 of 6 rows" in reply.text
    assert _rows(reply.text) == [("4", "missing name"), ("5", "invalid US number"), ("6", "duplicate of row 2")]
    scope = TenantScope(ports.store(), business.tenant_id)
    assert scope.get("contacts/+13035550150")["name"] == "Ana Lopez"  # normalised to E.164, first row wins
    assert scope.get("contacts/+13035550151")["name"] == "Ben Ito"
    for number in ("+13035550150", "+13035550151", "+13035550154"):
        assert consent.current_state(scope, number) == consent.ConsentState.never_asked
    again = _import(app_client, b"name,phone\nAna Again,303 555 0150\n")
    assert _rows(again.text) == [("2", "already a contact")] and scope.get("contacts/+13035550150")["name"] == "Ana Lopez"
    imports = [e["changes"] for e in audit.latest(ports.store(), business.tenant_id) if e["action"] == "contacts.imported"]
    assert sorted(imports, key=str) == [{"imported": 0, "skipped": 1}, {"imported": 3, "skipped": 3}]


def test_unusable_files_are_a_reason_not_a_500(app_client, signed_in):
    assert "name and phone" in _import(app_client, b"first,last\nA,B\n").text
    assert _import(app_client, b"\xff\xfe\x00binary").status_code == 422
    assert _import(app_client, b"").status_code == 422
    assert _import(app_client, b"name,phone\n" + b"A,+13035550150\n" * 5001).status_code == 422


def test_search_edit_delete(app_client, signed_in, business, ports, clock):
    _import(app_client, CSV)
    page = app_client.get("/contacts")
    assert page.text.index("Ana Lopez") < page.text.index("Ben Ito") < page.text.index("Dee Park")
    found = app_client.post("/contacts/search", data={"csrf_token": csrf_of(page.text), "q": "ben"})
    assert "Ben Ito" in found.text and "Ana Lopez" not in found.text
    by_number = app_client.post("/contacts/search", data={"csrf_token": csrf_of(page.text), "q": "303-555-0154"})
    assert "Dee Park" in by_number.text and "Ben Ito" not in by_number.text
    contact_id = ids.number_id(TenantScope(ports.store(), business.tenant_id), "+13035550151")
    assert f"/contacts/{contact_id}" in page.text
    assert not [href for href in re.findall(r'href="([^"]+)"', page.text) if "555" in href]  # ids, never numbers
    edit = app_client.get(f"/contacts/{contact_id}")
    saved = app_client.post(f"/contacts/{contact_id}", data={"csrf_token": csrf_of(edit.text), "name": "Ben Itō",
                                                             "notes": "Prefers mornings"})
    assert saved.status_code == 200 and "Saved." in saved.text
    assert app_client.post(f"/contacts/{contact_id}", data={"csrf_token": csrf_of(edit.text), "name": " "}
                           ).status_code == 422
    scope = TenantScope(ports.store(), business.tenant_id)
    assert scope.get("contacts/+13035550151")["notes"] == "Prefers mornings"
    clock.advance(seconds=1)
    gone = app_client.post(f"/contacts/{contact_id}/delete", data={"csrf_token": csrf_of(edit.text)})
    assert gone.status_code == 303 and scope.get("contacts/+13035550151") is None
    entry = audit.latest(ports.store(), business.tenant_id)[0]
    assert entry["action"] == "contact.deleted" and entry["target"] == contact_id
    assert app_client.get(f"/contacts/{contact_id}").status_code == 404


def test_viewers_read_only_and_another_businesss_ids_are_not_found(app_client, business, ports):
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    TenantScope(ports.store(), other.tenant_id).set("contacts/+13035550160", {"name": "Theirs", "phone": "+13035550160"})
    foreign = ids.number_id(TenantScope(ports.store(), other.tenant_id), "+13035550160")
    add_member(ports, business, "viewer@sunrise.example", Role.viewer)
    assert sign_in(app_client, "viewer@sunrise.example").status_code == 302
    page = app_client.get("/contacts")
    assert page.status_code == 200 and "Import contacts" not in page.text
    assert _import(app_client, CSV).status_code == 403
    assert sign_in(app_client, business.owner_email).status_code == 302
    assert app_client.get(f"/contacts/{foreign}").status_code == 404
    token = csrf_of(app_client.get("/contacts").text)
    assert app_client.post(f"/contacts/{foreign}/delete", data={"csrf_token": token}).status_code == 404
    assert TenantScope(ports.store(), other.tenant_id).get("contacts/+13035550160") is not None
