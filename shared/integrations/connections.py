"""A business's connection to one OAuth provider (QuickBooks, Google Calendar ...): its tokens,
encrypted; the single-use ``state`` of a connect flow; and the lock that serialises refreshes.

Documents:

* ``tenants/{tenant_id}/integrations/{provider}`` -- :class:`Connection` as stored: status
  (``connected`` | ``disconnected``), the provider's account id (QuickBooks' realmId), the
  tokens as one Cipher-sealed blob (``tokens_sealed``, context ``oauth:{tenant}:{provider}``,
  so tenant A's blob never opens as tenant B's), their expiry times, who connected or
  disconnected and when, and the refresh lock (``refresh_lock_until``, ``refresh_lock_holder``).
  No plaintext token is ever written to a document or a log. A disconnect deletes the sealed
  blob (the document stays, holding ids and times, so the Settings page can say what happened).
* ``integration_accounts/{provider}_{account}_{tenant}`` (global: ids only) -- which tenants are
  connected to a provider account, for the provider's webhooks, which name only the account
  (QuickBooks' realmId). Written with the connection, deleted with the disconnect.
* ``oauth_states/{sha256(state)}`` (global: ids only) -- one connect flow: tenant, provider,
  the user who started it, its binding and ``expire_at`` (10 minutes). :func:`consume_state`
  deletes it in the same transaction that reads it: a state works once.

Binding: a flow started from the app is bound to the signed-in user's session
(``binding = "session:" + sessions.session_key(cookie)``) and the callback must come with that
same session cookie. A flow started by ``scripts/ops`` is bound to that invocation
(``binding = "operator:" + a random id``): the state itself is known only to the operator's
terminal, the callback has no session cookie to present, so there it is the state (256 bits,
single use, 10 minutes) that proves the flow.

Refresh: :func:`access_token` hands out the access token, refreshing it ahead of expiry
(:data:`REFRESH_AHEAD`). Only the instance that takes the lock (a transaction on the
connection document, :data:`LOCK_FOR`) calls the provider; the others wait for the new token,
so a rotating refresh token (QuickBooks rotates it on every refresh) is spent once. A refresh the
provider answers with ``invalid_grant`` (:class:`GrantRevoked`) disconnects the connection
(tokens deleted, audit entry, the owner emailed).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal

from shared.accounts import audit
from shared.errors import InvalidInput
from shared.integrations.paths import connection_path, is_connected
from shared.notifications import notify_business
from shared.ports import Ports, Query, StoreUnavailable

STATES = "oauth_states"
ACCOUNTS = "integration_accounts"
STATE_TTL = dt.timedelta(minutes=10)
REFRESH_AHEAD = dt.timedelta(minutes=5)
LOCK_FOR = dt.timedelta(seconds=30)
WAIT_FOR_REFRESH = 10.0  # seconds a second caller waits for the lock holder's new token
PROVIDER_LABELS = {"quickbooks": "QuickBooks Online", "google_calendar": "Google Calendar"}


class IntegrationError(InvalidInput):
    """A connect flow or a connection that cannot be used as asked (400 with the reason)."""


class StateInvalid(IntegrationError):
    """The callback's ``state`` is unknown, used, expired or not this session's."""

    status = 403


class NotConnected(IntegrationError):
    """The tenant has no live connection to this provider."""

    status = 409


class GrantRevoked(Exception):
    """The provider refused the refresh token for good (``invalid_grant``): raised by a
    provider's refresh function; :func:`access_token` disconnects and re-raises it as
    :class:`NotConnected`."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None = None

    def __repr__(self) -> str:  # never print a token
        return f"Tokens(access_expires_at={self.access_expires_at!r})"


@dataclass(frozen=True)
class PendingFlow:
    tenant_id: str
    provider: str
    user_id: str | None
    binding: str
    created_at: dt.datetime
    extra: dict[str, Any]


def _context(tenant_id: str, provider: str) -> str:
    return f"oauth:{tenant_id}:{provider}"


def _state_path(state: str) -> str:
    return f"{STATES}/{hashlib.sha256(state.encode()).hexdigest()}"


def _account_path(provider: str, account_id: str, tenant_id: str) -> str:
    return f"{ACCOUNTS}/{provider}_{hashlib.sha256(account_id.encode()).hexdigest()[:32]}_{tenant_id}"


def _account_key(provider: str, account_id: str) -> str:
    return f"{provider}:{account_id}"


def session_binding(session_key: str) -> str:
    return f"session:{session_key}"


def operator_binding() -> str:
    return f"operator:{secrets.token_hex(8)}"


# --- the connect flow ---------------------------------------------------------------------------

def start_flow(ports: Ports, *, tenant_id: str, provider: str, user_id: str | None, binding: str,
               extra: dict[str, Any] | None = None) -> str:
    """A new single-use ``state`` for one connect flow (put it in the authorize URL)."""
    if not binding.startswith(("session:", "operator:")):
        raise ValueError("binding must be a session or an operator binding")
    state = secrets.token_urlsafe(32)
    now = ports.clock().now()
    ports.store().set(_state_path(state), {
        "tenant_id": tenant_id, "provider": provider, "user_id": user_id, "binding": binding,
        "created_at": now, "expire_at": now + STATE_TTL, "extra": extra or {}})
    return state


def consume_state(ports: Ports, state: str | None, *, session_key: str | None) -> PendingFlow:
    """The flow ``state`` belongs to, used up (its provider comes from our document, so one
    callback serves every provider). :class:`StateInvalid` when it is unknown, already used,
    expired, or bound to a session this request does not carry."""
    if not state or len(state) > 200:
        raise StateInvalid("missing or malformed state")
    now = ports.clock().now()
    path = _state_path(state)

    def take(tx) -> dict[str, Any] | None:
        data = tx.get(path)
        if data is not None:
            tx.delete(path)
        return data

    data = ports.store().transaction(take)
    if data is None:
        raise StateInvalid("unknown or already used state")
    if data["expire_at"] <= now:
        raise StateInvalid("expired state")
    binding = data["binding"]
    if binding.startswith("session:") and (not session_key or binding != session_binding(session_key)):
        raise StateInvalid("state was started in another session")
    return PendingFlow(tenant_id=data["tenant_id"], provider=data["provider"], user_id=data.get("user_id"),
                       binding=binding, created_at=data["created_at"], extra=data.get("extra") or {})


# --- stored tokens -------------------------------------------------------------------------------

def _seal(ports: Ports, tenant_id: str, provider: str, tokens: Tokens) -> str:
    plain = json.dumps({"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}).encode()
    return base64.b64encode(ports.cipher().encrypt(plain, _context(tenant_id, provider))).decode("ascii")


def _open(ports: Ports, tenant_id: str, provider: str, data: dict[str, Any]) -> Tokens:
    plain = json.loads(ports.cipher().decrypt(base64.b64decode(data["tokens_sealed"]), _context(tenant_id, provider)))
    return Tokens(plain["access_token"], plain["refresh_token"], data["access_expires_at"],
                  data.get("refresh_expires_at"))


def _token_fields(ports: Ports, tenant_id: str, provider: str, tokens: Tokens) -> dict[str, Any]:
    return {"tokens_sealed": _seal(ports, tenant_id, provider, tokens), "access_expires_at": tokens.access_expires_at,
            "refresh_expires_at": tokens.refresh_expires_at}


def save_connection(ports: Ports, flow: PendingFlow, tokens: Tokens, *, account_id: str,
                    details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store a completed connect flow (replacing any earlier connection) and audit it."""
    now = ports.clock().now()
    data = {"provider": flow.provider, "status": "connected", "account_id": account_id,
            **_token_fields(ports, flow.tenant_id, flow.provider, tokens),
            "connected_at": now, "connected_by": flow.user_id, "connected_via": flow.binding.split(":", 1)[0],
            "disconnected_at": None, "disconnected_by": None, "disconnect_reason": None,
            "refresh_lock_until": None, "refresh_lock_holder": None, "refreshed_at": now, "details": details or {}}
    store = ports.store()
    earlier = store.get(connection_path(flow.tenant_id, flow.provider))
    batch = store.batch()
    if earlier and earlier.get("account_id") and earlier["account_id"] != account_id:
        batch.delete(_account_path(flow.provider, earlier["account_id"], flow.tenant_id))
    batch.set(connection_path(flow.tenant_id, flow.provider), data)
    batch.set(_account_path(flow.provider, account_id, flow.tenant_id),
              {"key": _account_key(flow.provider, account_id), "tenant_id": flow.tenant_id})
    batch.commit()
    audit.record(ports.store(), now, tenant_id=flow.tenant_id, action="integration.connected",
                 actor_user_id=flow.user_id, target=flow.provider, changes={"via": data["connected_via"]})
    return public(data)


def get(ports: Ports, tenant_id: str, provider: str) -> dict[str, Any] | None:
    """The connection as the Settings page shows it (no token material), or None."""
    data = ports.store().get(connection_path(tenant_id, provider))
    return public(data) if data is not None else None


def public(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in ("tokens_sealed",)}


def live(ports: Ports, tenant_id: str, provider: str) -> dict[str, Any]:
    """The stored connection document, or :class:`NotConnected`."""
    data = ports.store().get(connection_path(tenant_id, provider))
    if not is_connected(data):
        raise NotConnected(f"{provider} is not connected")
    return data


def tokens(ports: Ports, tenant_id: str, provider: str) -> Tokens:
    """The stored tokens as they are (no refresh): for a revoke."""
    return _open(ports, tenant_id, provider, live(ports, tenant_id, provider))


def find_by_account(ports: Ports, provider: str, account_id: str) -> list[str]:
    """Tenant ids whose ``provider`` connection is to ``account_id`` (a webhook names the realm)."""
    docs = ports.store().query(Query(ACCOUNTS).where("key", "==", _account_key(provider, account_id)))
    return sorted(doc.data["tenant_id"] for doc in docs)


# --- refresh under a lock -------------------------------------------------------------------------

def access_token(ports: Ports, tenant_id: str, provider: str, *, refresh: Callable[[Tokens], Tokens],
                 force: bool = False, sleep: Callable[[float], None] = time.sleep) -> str:
    """A valid access token, refreshed first when it expires within :data:`REFRESH_AHEAD` (or
    ``force``: the provider just answered 401). ``refresh(tokens) -> new tokens`` calls the
    provider; it raises :class:`GrantRevoked` on ``invalid_grant`` (then this disconnects and
    raises :class:`NotConnected`) and :class:`StoreUnavailable` when the provider is down."""
    store = ports.store()
    path = connection_path(tenant_id, provider)
    data = live(ports, tenant_id, provider)
    now = ports.clock().now()
    seen = data["access_expires_at"]
    if not force and seen - now > REFRESH_AHEAD:
        return _open(ports, tenant_id, provider, data).access_token
    holder = secrets.token_hex(8)
    deadline = time.monotonic() + WAIT_FOR_REFRESH
    while True:
        def lock(tx) -> tuple[str, dict[str, Any] | None]:
            current = tx.get(path)
            if not is_connected(current):
                return "gone", current
            moment = ports.clock().now()
            if current["access_expires_at"] != seen and current["access_expires_at"] - moment > REFRESH_AHEAD:
                return "fresh", current  # another instance refreshed meanwhile
            until = current.get("refresh_lock_until")
            if until is not None and until > moment:
                return "busy", current
            tx.update(path, {"refresh_lock_until": moment + LOCK_FOR, "refresh_lock_holder": holder})
            return "mine", current

        outcome, current = store.transaction(lock)
        if outcome == "gone":
            raise NotConnected(f"{provider} is not connected")
        if outcome == "fresh":
            return _open(ports, tenant_id, provider, current).access_token
        if outcome == "mine":
            break
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"{provider} token refresh in progress elsewhere")
        sleep(0.2)
    old = _open(ports, tenant_id, provider, current)
    try:
        new = refresh(old)
    except GrantRevoked:
        disconnect(ports, tenant_id, provider, actor_user_id=None, reason="invalid_grant")
        raise NotConnected(f"{provider} refused the refresh token: reconnect it in Settings") from None
    except BaseException:
        store.update(path, {"refresh_lock_until": None, "refresh_lock_holder": None})
        raise
    store.update(path, {**_token_fields(ports, tenant_id, provider, new), "refreshed_at": ports.clock().now(),
                        "refresh_lock_until": None, "refresh_lock_holder": None})
    return new.access_token


# --- disconnect ------------------------------------------------------------------------------------

Reason = Literal["settings", "operator", "provider", "invalid_grant"]


def disconnect(ports: Ports, tenant_id: str, provider: str, *, actor_user_id: str | None, reason: Reason,
               revoke: Callable[[Tokens], None] | None = None) -> bool:
    """Delete the tokens and mark the connection disconnected; True if it was connected.
    ``revoke(tokens)`` (a disconnect from our side) tells the provider first; a revoke that fails
    because the provider is down raises, so nothing is deleted and the caller can try again. The
    audit log names who (``actor_user_id``; None with ``reason`` saying it came from the provider
    or a refused refresh). A disconnect we did not start emails the owner."""
    store = ports.store()
    path = connection_path(tenant_id, provider)
    data = store.get(path)
    if data is None or data.get("status") != "connected":
        return False
    if revoke is not None and data.get("tokens_sealed"):
        revoke(_open(ports, tenant_id, provider, data))
    now = ports.clock().now()
    if data.get("account_id"):
        store.delete(_account_path(provider, data["account_id"], tenant_id))
    store.update(path, {"status": "disconnected", "tokens_sealed": None, "access_expires_at": None,
                        "refresh_expires_at": None, "refresh_lock_until": None, "refresh_lock_holder": None,
                        "disconnected_at": now, "disconnected_by": actor_user_id, "disconnect_reason": reason})
    audit.record(store, now, tenant_id=tenant_id, action="integration.disconnected", actor_user_id=actor_user_id,
                 target=provider, changes={"reason": reason})
    if reason in ("provider", "invalid_grant"):
        notify_business(ports, tenant_id=tenant_id, template="integration_disconnected",
                        context={"provider": provider, "provider_label": PROVIDER_LABELS.get(provider, provider),
                                 "reason": reason},
                        dedup_key=f"integration-disconnected:{tenant_id}:{provider}:{data.get('connected_at')}")
    return True
