"""The one permission table: which role may do what. Every page and API operation names the
action it needs (``require(principal, "calls.recordings.play")``); nothing checks a role itself.

Each action also says whether it reads or writes: a personal API token scoped ``read`` can
only perform ``read`` actions, whatever its owner's role. ``tests/unit/test_permissions.py``
walks the whole table, and every route declares one of these actions.
"""

from __future__ import annotations

from typing import Literal

from shared.accounts.errors import Forbidden
from shared.accounts.principal import Principal
from shared.models.tenant import Role

Kind = Literal["read", "write"]

OWNER, ADMIN, STAFF, VIEWER = Role.owner, Role.admin, Role.staff, Role.viewer
EVERYONE = frozenset({OWNER, ADMIN, STAFF, VIEWER})
WORKERS = frozenset({OWNER, ADMIN, STAFF})
MANAGERS = frozenset({OWNER, ADMIN})
OWNERS = frozenset({OWNER})

# action -> (read or write, roles allowed)
PERMISSIONS: dict[str, tuple[Kind, frozenset[Role]]] = {
    "account.read": ("read", EVERYONE),              # /me, own profile
    "account.security": ("write", EVERYONE),         # own password, own 2FA, own sessions
    "business.read": ("read", EVERYONE),
    "business.update": ("write", MANAGERS),          # profile and settings
    "calls.read": ("read", EVERYONE),
    "calls.recordings.play": ("read", WORKERS),      # recordings and transcripts
    "calls.delete": ("write", MANAGERS),             # a call with its transcript and recordings
    "messages.read": ("read", EVERYONE),
    "messages.send": ("write", WORKERS),
    "consent.read": ("read", WORKERS),
    "contacts.read": ("read", EVERYONE),
    "contacts.manage": ("write", WORKERS),           # add, edit, delete, import (never consent)
    "appointments.read": ("read", EVERYONE),
    "appointments.manage": ("write", WORKERS),       # cancel, reschedule
    "routing.update": ("write", MANAGERS),           # hours, IVR, forwarding, agent
    "settings.read": ("read", MANAGERS),             # the settings page and its route preview
    "integrations.read": ("read", MANAGERS),         # QuickBooks, Google Calendar, CRM webhooks: status, logs
    "integrations.manage": ("write", MANAGERS),      # connect, disconnect, CRM endpoints (like scripts/ops: owners
                                                     # and admins)
    "billing.read": ("read", OWNERS),
    "billing.manage": ("write", OWNERS),             # subscribe, Stripe's portal (card, cancel); never admins:
                                                     # the owner answers for the money
    "members.read": ("read", EVERYONE),
    "members.manage": ("write", MANAGERS),           # invite, remove, change roles (never an owner's)
    "members.transfer_ownership": ("write", OWNERS),
    "security.require_2fa": ("write", OWNERS),
    "audit.read": ("read", MANAGERS),
    "data.export": ("read", MANAGERS),
    "data.delete": ("write", OWNERS),
    "privacy.request": ("write", OWNERS),            # privacy requests about the account or a caller
    "privacy.read": ("read", MANAGERS),              # their status, deadlines and history
    "tokens.manage": ("write", EVERYONE),            # one's own personal API tokens
    "support.request": ("write", WORKERS),           # the help page's support form (viewers only read)
}


def allowed(role: Role | str, action: str) -> bool:
    kind_roles = PERMISSIONS.get(action)
    if kind_roles is None:
        raise KeyError(f"unknown action {action!r}")
    return Role(role) in kind_roles[1]


def kind(action: str) -> Kind:
    return PERMISSIONS[action][0]


def can(principal: Principal, action: str) -> bool:
    """The role allows the action and, for a token, its scope covers it (write covers read)."""
    if not allowed(principal.role, action):
        return False
    needed = kind(action)
    return principal.has_scope(needed) or (needed == "read" and principal.has_scope("write"))


def require(principal: Principal, action: str) -> Principal:
    """``principal`` when it may perform ``action``; :class:`Forbidden` otherwise."""
    if not allowed(principal.role, action):
        raise Forbidden("Your role does not allow this.")
    if not can(principal, action):
        raise Forbidden("This API token's scope does not allow this.")
    return principal
