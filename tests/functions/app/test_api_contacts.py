"""The Contacts API through the real app: add (409 for a number that is a contact, field errors),
pages by name whose cursor is a contact's id, search in the body, change, delete (audited), the
CSV import's row report, never an opt-in; viewers read, workers manage; another business's ids
are not found."""

from __future__ import annotations

import json

import pytest

from shared import consent
from shared.accounts import audit
from shared.contacts import ids
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import TenantScope
from tests.functions.app.api_world import member_token
from tests.functions.app.conftest import make_business

CSV = ("Name,Phone\n"
       "Ana Lopez,(303) 555-0150\n"
       "Ben Ito,303.555.0151\n"
       ",303-555-0152\n"                       # row 4: no name
       "Cal Moss,555-0153\n"                   # row 5: not a US number
       "Ana L.,+1 303 555 0150\n"              # row 6: the same number as row 2
       "\n"
       "Dee Park,+13035550154\n")


token = member_token


@pytest.fixture
def staff(ports, business):
    return token(ports, business, Role.staff)


def _error(reply, status: int, code: str, field: str | None = None) -> dict:
    assert reply.status_code == status, reply.text
    error = reply.get_json()["error"]
    assert error["code"] == code and error["message"] and error.get("field") == field, error
    return error


def _ledger(ports, tenant_id: str) -> list:
    scope = TenantScope(ports.store(), tenant_id)
    return [(d.path, d.data) for d in scope.query(scope.collection("consent"))]


def test_add_a_contact_duplicates_are_409_and_bad_fields_422(app_client, ports, business, staff):
    before = _ledger(ports, business.tenant_id)
    made = app_client.post("/api/v1/contacts", json={"name": "  Ana   Lopez ", "phone": "(303) 555-0150",
                                                     "notes": "Prefers mornings"}, headers=staff)
    assert made.status_code == 201, made.text
    scope = TenantScope(ports.store(), business.tenant_id)
    assert made.get_json() == {"id": ids.number_id(scope, "+13035550150"), "name": "Ana Lopez",
                               "phone": "+13035550150", "notes": "Prefers mornings"}
    _error(app_client.post("/api/v1/contacts", json={"name": "Ana Again", "phone": "+1 303 555 0150"}, headers=staff),
           409, "conflict", "phone")
    _error(app_client.post("/api/v1/contacts", json={"name": "Cal", "phone": "555-0153"}, headers=staff),
           422, "invalid_input", "phone")
    _error(app_client.post("/api/v1/contacts", json={"name": "   ", "phone": "3035550155"}, headers=staff),
           422, "invalid_input", "name")
    _error(app_client.post("/api/v1/contacts", json={"phone": "3035550155"}, headers=staff),
           422, "invalid_input", "name")
    assert scope.get("contacts/+13035550150")["name"] == "Ana Lopez"  # the duplicate changed nothing
    assert consent.current_state(scope, "+13035550150") == consent.ConsentState.never_asked
    assert _ledger(ports, business.tenant_id) == before  # a contact is not consent


def test_the_import_answers_its_row_report_and_opts_nobody_in(app_client, ports, business, staff, clock):
    before = _ledger(ports, business.tenant_id)
    reply = app_client.post("/api/v1/contacts/import", json={"csv": CSV}, headers=staff)
    assert reply.status_code == 200, reply.text
    assert reply.get_json() == {"imported": 3, "rows": 6, "problems": [
        {"row": 4, "reason": "missing name"}, {"row": 5, "reason": "invalid US number"},
        {"row": 6, "reason": "duplicate of row 2"}]}
    clock.advance(seconds=1)
    again = app_client.post("/api/v1/contacts/import", json={"csv": "name,phone\nAna Again,303 555 0150\n"},
                            headers=staff).get_json()
    assert again == {"imported": 0, "rows": 1, "problems": [{"row": 2, "reason": "already a contact"}]}
    scope = TenantScope(ports.store(), business.tenant_id)
    assert scope.get("contacts/+13035550150")["name"] == "Ana Lopez"
    for number in ("+13035550150", "+13035550151", "+13035550154"):
        assert consent.current_state(scope, number) == consent.ConsentState.never_asked
    assert _ledger(ports, business.tenant_id) == before
    entry = audit.latest(ports.store(), business.tenant_id)[0]
    assert entry["action"] == "contacts.imported" and entry["changes"] == {"imported": 0, "skipped": 1}
    assert "Ana" not in json.dumps(entry, default=str) and "555" not in json.dumps(entry, default=str)


def test_an_import_that_cannot_be_read_is_a_field_error_and_a_huge_one_413(app_client, staff):
    for text in ("", "first,second\nAna,3035550150\n", "name,phone\n" + "A,+13035550150\n" * 5001):
        _error(app_client.post("/api/v1/contacts/import", json={"csv": text}, headers=staff), 422, "invalid_input",
               "csv")
    _error(app_client.post("/api/v1/contacts/import", json={"csv": "n" * 1_000_001}, headers=staff), 422,
           "invalid_input", "csv")
    accents = json.dumps({"csv": "é" * 510_000}, ensure_ascii=False).encode()  # 510,000 characters, 1.02 MB
    _error(app_client.post("/api/v1/contacts/import", data=accents, headers={**staff, "Content-Type": "application/json"}),
           422, "invalid_input", "csv")
    too_big = app_client.post("/api/v1/contacts/import", json={"csv": "n" * 1_100_000}, headers=staff)
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "too_large"


def test_pages_by_name_whose_cursor_is_a_contacts_id(app_client, ports, business, staff):
    names = [f"Person {i:02d}" for i in range(7)]
    csv_text = "name,phone\n" + "".join(f"{n},+1303555{i:04d}\n" for i, n in enumerate(reversed(names)))
    assert app_client.post("/api/v1/contacts/import", json={"csv": csv_text}, headers=staff).status_code == 200
    seen, cursors, url = [], [], "/api/v1/contacts?limit=3"
    while url:
        page = app_client.get(url, headers=staff).get_json()
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        url = f"/api/v1/contacts?limit=3&cursor={cursor}" if cursor else None
        cursors += [cursor] if cursor else []
    assert seen == names and len(cursors) == 2
    scope = TenantScope(ports.store(), business.tenant_id)
    assert all(ids.number_of(scope, c).startswith("+1303555") for c in cursors)  # an id, not a number or a name
    # the contact a cursor names is gone: say so, do not guess
    assert app_client.delete(f"/api/v1/contacts/{cursors[0]}", headers=staff).status_code == 204
    _error(app_client.get(f"/api/v1/contacts?cursor={cursors[0]}", headers=staff), 422, "invalid_input", "cursor")
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    foreign = ids.number_id(TenantScope(ports.store(), other.tenant_id), "+13035550001")
    _error(app_client.get(f"/api/v1/contacts?cursor={foreign}", headers=staff), 422, "invalid_input", "cursor")


def test_search_is_posted_by_name_prefix_or_number(app_client, staff):
    assert app_client.post("/api/v1/contacts/import", json={"csv": CSV}, headers=staff).status_code == 200
    by_name = app_client.post("/api/v1/contacts/search", json={"q": "ben"}, headers=staff).get_json()
    assert [c["name"] for c in by_name["items"]] == ["Ben Ito"] and by_name["next_cursor"] is None
    by_number = app_client.post("/api/v1/contacts/search", json={"q": "303-555-0154"}, headers=staff).get_json()
    assert [c["name"] for c in by_number["items"]] == ["Dee Park"]
    nobody = app_client.post("/api/v1/contacts/search", json={"q": "zed"}, headers=staff).get_json()
    assert nobody == {"items": [], "next_cursor": None}
    paged = app_client.post("/api/v1/contacts/search", json={"q": "", "limit": 2}, headers=staff).get_json()
    rest = app_client.post("/api/v1/contacts/search", json={"q": "", "limit": 2, "cursor": paged["next_cursor"]},
                           headers=staff).get_json()
    assert [c["name"] for c in paged["items"] + rest["items"]] == ["Ana Lopez", "Ben Ito", "Dee Park"]


def test_change_and_delete_a_contact(app_client, ports, business, staff, clock):
    made = app_client.post("/api/v1/contacts", json={"name": "Ben Ito", "phone": "3035550151"}, headers=staff)
    contact_id = made.get_json()["id"]
    scope = TenantScope(ports.store(), business.tenant_id)
    consent.record(scope, "+13035550151", action="opt_in", method="verbal", disclosure="Reply STOP to opt out.",
                   source_type="call", source_id="CA" + "1" * 32, now=clock.now())
    changed = app_client.patch(f"/api/v1/contacts/{contact_id}", json={"notes": "Prefers mornings"}, headers=staff)
    assert changed.status_code == 200
    assert changed.get_json() == {"id": contact_id, "name": "Ben Ito", "phone": "+13035550151",
                                  "notes": "Prefers mornings"}
    renamed = app_client.patch(f"/api/v1/contacts/{contact_id}", json={"name": "Ben Itō"}, headers=staff).get_json()
    assert (renamed["name"], renamed["notes"]) == ("Ben Itō", "Prefers mornings")
    _error(app_client.patch(f"/api/v1/contacts/{contact_id}", json={"name": " "}, headers=staff), 422,
           "invalid_input", "name")
    _error(app_client.patch(f"/api/v1/contacts/{contact_id}", json={"phone": "3035550152"}, headers=staff), 422,
           "invalid_input", "phone")
    assert app_client.get(f"/api/v1/contacts/{contact_id}", headers=staff).get_json() == renamed
    clock.advance(seconds=1)
    gone = app_client.delete(f"/api/v1/contacts/{contact_id}", headers=staff)
    assert gone.status_code == 204 and scope.get("contacts/+13035550151") is None
    entry = audit.latest(ports.store(), business.tenant_id)[0]
    assert entry["action"] == "contact.deleted" and entry["target"] == contact_id
    _error(app_client.get(f"/api/v1/contacts/{contact_id}", headers=staff), 404, "not_found")
    _error(app_client.delete(f"/api/v1/contacts/{contact_id}", headers=staff), 404, "not_found")
    assert consent.current_state(scope, "+13035550151") == consent.ConsentState.opted_in  # the ledger stays


def test_viewers_read_workers_manage(app_client, ports, business, staff):
    contact_id = app_client.post("/api/v1/contacts", json={"name": "Ana Lopez", "phone": "3035550150"},
                                 headers=staff).get_json()["id"]
    viewer = token(ports, business, Role.viewer)
    assert [c["name"] for c in app_client.get("/api/v1/contacts", headers=viewer).get_json()["items"]] == ["Ana Lopez"]
    assert app_client.get(f"/api/v1/contacts/{contact_id}", headers=viewer).status_code == 200
    assert app_client.post("/api/v1/contacts/search", json={"q": "ana"}, headers=viewer).status_code == 200
    reader = token(ports, business, Role.admin, "read")
    for headers in (viewer, reader):
        _error(app_client.post("/api/v1/contacts", json={"name": "X", "phone": "3035550159"}, headers=headers), 403,
               "forbidden")
        _error(app_client.patch(f"/api/v1/contacts/{contact_id}", json={"notes": "x"}, headers=headers), 403,
               "forbidden")
        _error(app_client.delete(f"/api/v1/contacts/{contact_id}", headers=headers), 403, "forbidden")
        _error(app_client.post("/api/v1/contacts/import", json={"csv": CSV}, headers=headers), 403, "forbidden")
    assert app_client.get(f"/api/v1/contacts/{contact_id}", headers=staff).get_json()["notes"] == ""


def test_another_businesss_contact_ids_are_not_found(app_client, ports, business, staff):
    other = make_business(ports, name="Other Dental", email="owner@other.example")
    theirs = token(ports, other, Role.owner)
    foreign_id = app_client.post("/api/v1/contacts", json={"name": "Zoe Other", "phone": "3035550150"},
                                 headers=theirs).get_json()["id"]
    for reply in (app_client.get(f"/api/v1/contacts/{foreign_id}", headers=staff),
                  app_client.patch(f"/api/v1/contacts/{foreign_id}", json={"notes": "mine now"}, headers=staff),
                  app_client.delete(f"/api/v1/contacts/{foreign_id}", headers=staff),
                  app_client.get("/api/v1/contacts/not-an-id", headers=staff)):
        _error(reply, 404, "not_found")
    assert "Zoe Other" not in app_client.get("/api/v1/contacts", headers=staff).text
    assert app_client.get(f"/api/v1/contacts/{foreign_id}", headers=theirs).get_json()["notes"] == ""
    assert ports.store().query(Query(f"tenants/{business.tenant_id}/contacts")) == []
