"""The hook for ``Authorization: Bearer <token>``: personal API tokens
(:mod:`shared.accounts.tokens`). :func:`authenticate` returns the token's
:class:`~shared.accounts.principal.Principal` (``auth="token"``, its scopes) or None, which
answers 401."""

from __future__ import annotations

import datetime as dt

from shared.accounts import tokens
from shared.accounts.principal import Principal
from shared.runtime import Ports


def authenticate(ports: Ports, token: str, now: dt.datetime) -> Principal | None:
    return tokens.authenticate(ports.store(), now, ports.settings.secret("z3_api_token_pepper"), token)
