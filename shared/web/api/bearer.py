"""The hook for ``Authorization: Bearer <token>`` (personal API tokens).

:func:`authenticate` returns the :class:`~shared.accounts.principal.Principal` of a valid token
(``auth="token"``, its scopes), or None, which answers 401. Personal API tokens are not built
yet (issue 12 item 11): until they are, every Bearer token is refused.
"""

from __future__ import annotations

import datetime as dt

from shared.accounts.principal import Principal
from shared.runtime import Ports


def authenticate(ports: Ports, token: str, now: dt.datetime) -> Principal | None:
    return None
