"""``/contacts``: the Contacts pages' JSON twin over ``shared.contacts.book`` (list, search, add,
change, delete, CSV import with its row report).

* A contact is addressed by its id (its number's id, ``shared.contacts.ids``); its name and
  number travel in bodies only: the search is ``POST /contacts/search`` with ``{q}``, and the
  cursor of a page is the id of its last contact (never a name or a number).
* Pages by name: ``limit`` (at most 100) contacts a page, ``next_cursor`` to go on.
* Contacts are not consent: adding or importing one never opts anyone in to texts.
* The import takes the CSV's text in a JSON body (``{"csv": "..."}``, at most
  ``book.MAX_BYTES``; the app refuses any body over 1 MiB with 413) and answers the validation
  report: how many were imported and each skipped row's number and reason.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts.errors import InvalidInput
from shared.contacts import book
from shared.web import auth
from shared.web.api.pagination import Page, PageQuery
from shared.web.api.spec import operation
from shared.web.api.v1.models import NUMBER_ID
from shared.web.api.v1.routes import blueprint


class BookContactOut(BaseModel):
    id: str = Field(description="the contact's id (its number's id: also /numbers/{number_id}/messages)")
    name: str
    phone: str = Field(description="E.164")
    notes: str

    @classmethod
    def of(cls, contact: book.Contact) -> "BookContactOut":
        return cls(id=contact.id, name=contact.name, phone=contact.phone, notes=contact.notes)


class BookContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=book.NAME_MAX)
    phone: str = Field(max_length=40, description="a US number, in any common notation",
                       examples=["(303) 555-0150"])
    notes: str = Field(default="", max_length=book.NOTES_MAX)


class BookContactPatch(BaseModel):
    """Only the fields sent change; the number is the contact (add another contact for another number)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=book.NAME_MAX)
    notes: str | None = Field(default=None, max_length=book.NOTES_MAX)


class ContactSearch(PageQuery):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(max_length=book.NAME_MAX, description="a phone number (exact) or the start of a name")


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csv: str = Field(max_length=book.MAX_BYTES, description="the file's text: a header row naming a name "
                                                            "column and a phone column, then one contact a row")


class RowProblemOut(BaseModel):
    row: int = Field(description="the spreadsheet's row number (the header is row 1)")
    reason: str = Field(description="missing name, invalid US number, duplicate of row N, already a contact")


class ImportReportOut(BaseModel):
    imported: int
    rows: int = Field(description="rows read (blank rows aside)")
    problems: list[RowProblemOut] = Field(description="every row not imported, in file order")


def _page(search: str, params: PageQuery) -> Page[BookContactOut]:
    found = book.list_contacts(auth.ports(), auth.principal().tenant_id, search, limit=params.limit + 1,
                               after=params.cursor)
    more = len(found) > params.limit
    found = found[: params.limit]
    return Page[BookContactOut](items=[BookContactOut.of(c) for c in found],
                            next_cursor=found[-1].id if more and found else None)


@operation(blueprint, "GET", "/contacts", action="contacts.read", summary="Contacts by name",
           response=Page[BookContactOut], query=PageQuery)
def list_contacts(query: PageQuery) -> Page[BookContactOut]:
    return _page("", query)


@operation(blueprint, "POST", "/contacts/search", action="contacts.read",
           summary="Find contacts by number or the start of a name (in the body: never in a URL)",
           response=Page[BookContactOut], body=ContactSearch)
def search_contacts(body: ContactSearch) -> Page[BookContactOut]:
    return _page(body.q, body)


@operation(blueprint, "POST", "/contacts", action="contacts.manage",
           summary="Add a contact (never opts the number in to texts)", response=BookContactOut, status=201,
           body=BookContactIn, errors=(409,))
def add_contact(body: BookContactIn) -> BookContactOut:
    return BookContactOut.of(book.add_contact(auth.ports(), auth.principal(), body.name, body.phone, body.notes))


@operation(blueprint, "GET", "/contacts/<contact_id>", action="contacts.read", summary="One contact",
           response=BookContactOut, path_params={"contact_id": NUMBER_ID})
def get_contact(contact_id: str) -> BookContactOut:
    return BookContactOut.of(book.get_contact(auth.ports(), auth.principal().tenant_id, contact_id))


@operation(blueprint, "PATCH", "/contacts/<contact_id>", action="contacts.manage",
           summary="Change a contact's name or notes", response=BookContactOut, body=BookContactPatch,
           path_params={"contact_id": NUMBER_ID})
def patch_contact(contact_id: str, body: BookContactPatch) -> BookContactOut:
    principal = auth.principal()
    current = book.get_contact(auth.ports(), principal.tenant_id, contact_id)
    name = current.name if body.name is None else body.name
    notes = current.notes if body.notes is None else body.notes
    return BookContactOut.of(book.update_contact(auth.ports(), principal, contact_id, name=name, notes=notes))


@operation(blueprint, "DELETE", "/contacts/<contact_id>", action="contacts.manage",
           summary="Delete a contact (its texts, calls and consent record stay; audited)", response=None,
           status=204, path_params={"contact_id": NUMBER_ID})
def delete_contact(contact_id: str) -> None:
    info = auth.client()
    book.delete_contact(auth.ports(), auth.principal(), contact_id, ip=info.ip, user_agent=info.user_agent)


@operation(blueprint, "POST", "/contacts/import", action="contacts.manage",
           summary="Import contacts from CSV text: the report of what was imported and each row skipped "
                   "(never opts anyone in)", response=ImportReportOut, body=ImportIn)
def import_contacts(body: ImportIn) -> ImportReportOut:
    info = auth.client()
    try:
        report = book.import_csv(auth.ports(), auth.principal(), body.csv.encode(), ip=info.ip,
                                 user_agent=info.user_agent)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="csv") from None
    return ImportReportOut(imported=report.imported, rows=report.rows,
                           problems=[RowProblemOut(row=p.row, reason=p.reason) for p in report.problems])
