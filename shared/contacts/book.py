"""The business's contacts as people manage them: list, search, add, edit, delete, CSV import.

Documents are the ones the call path already reads (``shared.voice.contacts``):
``contacts/{e164}`` -> ``{name, name_lower, phone, notes, source, updated_at}``, keyed by the
number (normalised by the one phone normaliser, ``shared.phone``), so a number is one contact
and deduplication is structural. People and URLs name a contact by its number id
(``shared.contacts.ids``), never by the number.

Rules:

* **Contacts are not consent.** Nothing here touches the consent ledger: importing or adding a
  contact never opts it in to texts (consent comes from the person's own words or keywords).
* **A number is one contact**: adding one that exists is a :class:`Conflict` (409).
* **Import reports every row it skips** (spreadsheet row number: the header is row 1) with the
  reason -- ``missing name``, ``invalid US number``, ``duplicate of row N`` (the same number
  earlier in the file) or ``already a contact`` (an existing contact is never overwritten by an
  import) -- and imports the good rows. At most :data:`MAX_ROWS` rows and :data:`MAX_BYTES`.
* Deletions and imports are in the audit log (who, when, how many; never a name or number).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from shared.accounts import audit
from shared.accounts.errors import Conflict, InvalidInput, NotFound
from shared.accounts.principal import Principal
from shared.contacts import ids
from shared.phone import try_normalize_us
from shared.ports import Document, Ports
from shared.tenants import TenantScope
from shared.voice.contacts import contact_path, save_contact

MAX_ROWS = 5000
MAX_BYTES = 1_000_000
LIST_LIMIT = 200
NAME_MAX = 200
NOTES_MAX = 2000
NAME_HEADERS = ("name", "full name", "contact", "contact name")
PHONE_HEADERS = ("phone", "phone number", "number", "mobile", "cell", "telephone")


@dataclass(frozen=True)
class Contact:
    id: str  # the number id
    name: str
    phone: str  # E.164
    notes: str = ""


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _contact(codec: ids.NumberIds, data: dict) -> Contact:
    phone = data.get("phone") or ""
    return Contact(id=codec.id(phone), name=data.get("name") or "", phone=phone, notes=data.get("notes") or "")


def list_contacts(ports: Ports, tenant_id: str, search: str = "", *, limit: int = LIST_LIMIT,
                  after: str | None = None) -> list[Contact]:
    """Contacts by name (at most ``limit``); ``search`` is a phone number (exact) or the start of
    a name (case-insensitive). ``after`` (a contact's id) resumes the same list after that
    contact: a cursor that names a contact by its id, never by its name or number."""
    scope = TenantScope(ports.store(), tenant_id)
    search = (search or "").strip()[:NAME_MAX]
    number = try_normalize_us(search) if search and any(c.isdigit() for c in search) else None
    start = _resume_after(scope, after) if after else None
    if number:
        data = scope.get(contact_path(number))
        return [_contact(ids.NumberIds(scope), data)] if data and start is None else []
    query = scope.collection("contacts")
    if search:
        prefix = search.lower()
        query = query.where("name_lower", ">=", prefix).where("name_lower", "<", prefix + "\uf8ff")
    docs = scope.query(query.order_by("name_lower").page(limit, start))
    codec = ids.NumberIds(scope)
    return [_contact(codec, d.data) for d in docs]


def _resume_after(scope: TenantScope, contact_id: str) -> Document:
    try:
        number = ids.number_of(scope, contact_id)
    except ids.UnknownNumberId:
        raise InvalidInput("cursor: not a cursor this list gave out", field="cursor") from None
    data = scope.get(contact_path(number))
    if data is None:
        raise InvalidInput("cursor: that contact is gone; start again from the first page", field="cursor")
    return Document(scope.path(contact_path(number)), {"name_lower": data.get("name_lower") or ""})


def _number(scope: TenantScope, contact_id: str) -> str:
    try:
        return ids.number_of(scope, contact_id)
    except ids.UnknownNumberId:
        raise NotFound("No such contact.") from None


def get_contact(ports: Ports, tenant_id: str, contact_id: str) -> Contact:
    scope = TenantScope(ports.store(), tenant_id)
    data = scope.get(contact_path(_number(scope, contact_id)))
    if data is None:
        raise NotFound("No such contact.")
    return _contact(ids.NumberIds(scope), data)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Enter a name.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"A name has at most {NAME_MAX} characters.", field="name")
    return name


def _clean_notes(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput(f"Notes have at most {NOTES_MAX} characters.", field="notes")
    return notes


def add_contact(ports: Ports, actor: Principal, name: str, phone: str, notes: str = "") -> Contact:
    scope = TenantScope(ports.store(), actor.tenant_id)
    name, notes = _clean_name(name), _clean_notes(notes)
    number = try_normalize_us(phone)
    if number is None:
        raise InvalidInput("Enter a valid US phone number.", field="phone")
    if scope.get(contact_path(number)) is not None:
        raise Conflict("That number is already a contact.", field="phone")
    save_contact(scope, number, name, ports.clock().now(), notes=notes, source="dashboard")
    return Contact(ids.number_id(scope, number), name, number, notes)


def update_contact(ports: Ports, actor: Principal, contact_id: str, *, name: str, notes: str = "") -> Contact:
    scope = TenantScope(ports.store(), actor.tenant_id)
    number = _number(scope, contact_id)
    name, notes = _clean_name(name), _clean_notes(notes)
    if scope.get(contact_path(number)) is None:
        raise NotFound("No such contact.")
    save_contact(scope, number, name, ports.clock().now(), notes=notes)
    return Contact(contact_id, name, number, notes)


def delete_contact(ports: Ports, actor: Principal, contact_id: str, *, ip: str = "", user_agent: str = "") -> None:
    """The contact goes; the number's texts, calls and consent record stay (consent is the
    suppression record and is kept 5 years)."""
    scope = TenantScope(ports.store(), actor.tenant_id)
    number = _number(scope, contact_id)
    if scope.get(contact_path(number)) is None:
        raise NotFound("No such contact.")
    scope.delete(contact_path(number))
    audit.record(ports.store(), ports.clock().now(), tenant_id=actor.tenant_id, action="contact.deleted",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent, target=contact_id)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    wanted = [h.strip().lower() for h in header]
    for name in names:
        if name in wanted:
            return wanted.index(name)
    return None


def import_csv(ports: Ports, actor: Principal, data: bytes, *, ip: str = "", user_agent: str = "") -> ImportReport:
    """Import a CSV with a header row naming a name column and a phone column (module docstring)."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES // 1_000_000} MB.", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text (save it as CSV UTF-8).", field="file") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InvalidInput("The file is empty.", field="file")
    header = rows[0]
    name_col, phone_col = _column(header, NAME_HEADERS), _column(header, PHONE_HEADERS)
    if name_col is None or phone_col is None:
        raise InvalidInput("The first row must name the columns: name and phone.", field="file")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(f"At most {MAX_ROWS} contacts per file.", field="file")
    scope = TenantScope(ports.store(), actor.tenant_id)
    now: dt.datetime = ports.clock().now()
    report = ImportReport()
    seen: dict[str, int] = {}
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        name = " ".join((row[name_col] if name_col < len(row) else "").split())[:NAME_MAX]
        raw = row[phone_col] if phone_col < len(row) else ""
        number = try_normalize_us(raw.strip())
        if not name:
            report.problems.append(RowProblem(row_number, "missing name"))
        elif number is None:
            report.problems.append(RowProblem(row_number, "invalid US number"))
        elif number in seen:
            report.problems.append(RowProblem(row_number, f"duplicate of row {seen[number]}"))
        elif scope.get(contact_path(number)) is not None:
            seen[number] = row_number
            report.problems.append(RowProblem(row_number, "already a contact"))
        else:
            seen[number] = row_number
            save_contact(scope, number, name, now, notes="", source="import")
            report.imported += 1
    audit.record(ports.store(), now, tenant_id=actor.tenant_id, action="contacts.imported",
                 actor_user_id=actor.user_id, ip=ip, user_agent=user_agent,
                 changes={"imported": report.imported, "skipped": len(report.problems)})
    return report
