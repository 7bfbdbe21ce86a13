"""The ``/api/v1`` blueprint itself, apart from the resource modules that declare operations on
it (they import it from here, and ``shared.web.api.v1`` imports them: no import circle)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api_v1", __name__)
