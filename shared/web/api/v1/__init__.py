"""``/api/v1``: the tenant's JSON API. Each resource module declares its operations on
``blueprint`` with :func:`shared.web.api.spec.operation` and is imported below."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api_v1", __name__)

from shared.web.api.v1 import account, business, members, records  # noqa: E402,F401 - registers the routes
