"""The Contacts pages: list and search, add, edit, delete, and CSV import with its validation
report. A contact is addressed by its number id; a name search is posted, never put in the URL."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from shared.accounts import permissions
from shared.accounts.errors import Conflict, InvalidInput
from shared.contacts import book
from shared.web import auth

blueprint = Blueprint("contacts", __name__, url_prefix="/contacts")


def _list_page(status: int = 200, search: str = "", **extra):
    principal = auth.principal()
    return render_template("contacts.html", contacts=book.list_contacts(auth.ports(), principal.tenant_id, search),
                           search=search, can_manage=permissions.can(principal, "contacts.manage"),
                           limit=book.LIST_LIMIT, **extra), status


@blueprint.get("")
@auth.requires("contacts.read")
def index():
    notice = "Contact deleted." if request.args.get("deleted") else None
    return _list_page(notice=notice)


@blueprint.post("/search")
@auth.requires("contacts.read")
def search():
    return _list_page(search=request.form.get("q", ""))


@blueprint.post("")
@auth.requires("contacts.manage")
def add():
    try:
        contact = book.add_contact(auth.ports(), auth.principal(), request.form.get("name", ""),
                                   request.form.get("phone", ""), request.form.get("notes", ""))
    except (InvalidInput, Conflict) as exc:
        return _list_page(exc.status, error=exc.message, form=request.form)
    return _list_page(notice=f"{contact.name} added.")


@blueprint.post("/import")
@auth.requires("contacts.manage")
def import_file():
    upload = request.files.get("file")
    info = auth.client()
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("Choose a CSV file.", field="file")
        report = book.import_csv(auth.ports(), auth.principal(), upload.read(book.MAX_BYTES + 1), ip=info.ip,
                                 user_agent=info.user_agent)
    except InvalidInput as exc:
        return _list_page(exc.status, error=exc.message)
    return _list_page(report=report)


@blueprint.get("/<contact_id>")
@auth.requires("contacts.read")
def edit(contact_id: str):
    principal = auth.principal()
    return render_template("contact_edit.html", contact=book.get_contact(auth.ports(), principal.tenant_id, contact_id),
                           can_manage=permissions.can(principal, "contacts.manage"))


@blueprint.post("/<contact_id>")
@auth.requires("contacts.manage")
def save(contact_id: str):
    principal = auth.principal()
    try:
        contact = book.update_contact(auth.ports(), principal, contact_id, name=request.form.get("name", ""),
                                      notes=request.form.get("notes", ""))
    except InvalidInput as exc:
        current = book.get_contact(auth.ports(), principal.tenant_id, contact_id)
        return render_template("contact_edit.html", contact=current, can_manage=True, error=exc.message), exc.status
    return render_template("contact_edit.html", contact=contact, can_manage=True, notice="Saved.")


@blueprint.post("/<contact_id>/delete")
@auth.requires("contacts.manage")
def delete(contact_id: str):
    info = auth.client()
    book.delete_contact(auth.ports(), auth.principal(), contact_id, ip=info.ip, user_agent=info.user_agent)
    return redirect(url_for("contacts.index", deleted="1"), code=303)
