"""``/api/v1``: the tenant's JSON API. Each resource module declares its operations on
``blueprint`` (``shared.web.api.v1.routes``) with :func:`shared.web.api.spec.operation` and is
imported here, which registers its routes."""

from __future__ import annotations

# One import per line (each registers its module's routes).
from shared.web.api.v1 import account  # noqa: F401
from shared.web.api.v1 import appointments  # noqa: F401
from shared.web.api.v1 import billing  # noqa: F401
from shared.web.api.v1 import business  # noqa: F401
from shared.web.api.v1 import calls  # noqa: F401
from shared.web.api.v1 import contacts  # noqa: F401
from shared.web.api.v1 import crm  # noqa: F401
from shared.web.api.v1 import integrations  # noqa: F401
from shared.web.api.v1 import members  # noqa: F401
from shared.web.api.v1 import privacy  # noqa: F401
from shared.web.api.v1 import records  # noqa: F401
from shared.web.api.v1 import settings  # noqa: F401
from shared.web.api.v1 import support  # noqa: F401
from shared.web.api.v1 import texts  # noqa: F401
from shared.web.api.v1.routes import blueprint

__all__ = ["blueprint"]
