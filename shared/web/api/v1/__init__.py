"""``/api/v1``: the tenant's JSON API. Each resource module declares its operations on
``blueprint`` (``shared.web.api.v1.routes``) with :func:`shared.web.api.spec.operation` and is
imported here, which registers its routes."""

from __future__ import annotations

from shared.web.api.v1 import account, billing, business, members, privacy, records  # noqa: F401 - registers the routes
from shared.web.api.v1.routes import blueprint

__all__ = ["blueprint"]
