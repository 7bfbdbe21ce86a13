"""The audit log page (owners and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template

from shared.accounts import audit
from shared.web import auth

blueprint = Blueprint("audit", __name__, url_prefix="/audit")


@blueprint.get("")
@auth.requires("audit.read")
def index():
    entries = audit.latest(auth.ports().store(), auth.principal().tenant_id, limit=100)
    return render_template("audit.html", entries=entries)
