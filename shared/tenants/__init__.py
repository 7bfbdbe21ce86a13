"""Tenants, users and the phone-number registry.

Tenant isolation is structural: services get a :class:`TenantScope`, which can only build paths
under ``tenants/{tenant_id}/``. The global collections hold ids, not content:

* ``phone_numbers/{e164}`` -> ``{"tenant_id"}``: which business an incoming ``To`` belongs to;
* ``user_logins/{sha256(email)}`` -> ``{"tenant_id", "user_id"}``: login lookup without
  storing the address outside the tenant.
"""

from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

from shared.billing import entitlements
from shared.config import get_settings
from shared.models.base import utcnow
from shared.models.tenant import EU_EEA, Address, Contact, Role, Tenant, TenantStatus, User, email_key
from shared.phone import normalize_us, try_normalize_us
from shared.ports import AlreadyExists, Document, DocumentStore, NotFound, Query, Transaction

T = TypeVar("T")
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class SignupRefused(ValueError):
    """The policy does not allow this account (not in the US, EU/EEA ...)."""


class NumberTaken(ValueError):
    """The number belongs to another tenant."""


class UnknownTenant(LookupError):
    pass


def _check_id(value: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError("invalid id")
    return value


class _ScopedTransaction:
    def __init__(self, scope: "TenantScope", tx: Transaction) -> None:
        self._scope = scope
        self._tx = tx

    def get(self, rel: str) -> dict[str, Any] | None:
        return self._tx.get(self._scope.path(rel))

    def query(self, query: Query) -> list[Document]:
        return self._tx.query(self._scope.own(query))

    def set(self, rel: str, data: dict[str, Any], *, merge: bool = False) -> None:
        self._tx.set(self._scope.path(rel), data, merge=merge)

    def create(self, rel: str, data: dict[str, Any]) -> None:
        self._tx.create(self._scope.path(rel), data)

    def update(self, rel: str, data: dict[str, Any]) -> None:
        self._tx.update(self._scope.path(rel), data)

    def delete(self, rel: str) -> None:
        self._tx.delete(self._scope.path(rel))


class TenantScope:
    """One tenant's documents, addressed by paths relative to ``tenants/{id}``.

    ``scope.get("calls/CA1")`` reads ``tenants/{id}/calls/CA1``; a path that tries to leave the
    tenant (``..``, absolute, empty segments) is refused. There is no way to name another
    tenant's document through a scope."""

    def __init__(self, store: DocumentStore, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = _check_id(tenant_id)
        self.root = f"tenants/{self.tenant_id}"

    def path(self, rel: str = "") -> str:
        if not rel:
            return self.root
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ValueError("invalid relative path")
        return f"{self.root}/{rel}"

    def collection(self, rel: str) -> Query:
        return Query(self.path(rel))

    def own(self, query: Query) -> Query:
        if not query.collection.startswith(self.root + "/"):
            raise PermissionError("query outside the tenant")
        return query

    def get(self, rel: str) -> dict[str, Any] | None:
        return self.store.get(self.path(rel))

    def set(self, rel: str, data: dict[str, Any], *, merge: bool = False) -> None:
        self.store.set(self.path(rel), data, merge=merge)

    def create(self, rel: str, data: dict[str, Any]) -> bool:
        return self.store.create(self.path(rel), data)

    def update(self, rel: str, data: dict[str, Any]) -> None:
        self.store.update(self.path(rel), data)

    def delete(self, rel: str) -> None:
        self.store.delete(self.path(rel))

    def query(self, query: Query) -> list[Document]:
        return self.store.query(self.own(query))

    def transaction(self, fn: Callable[[_ScopedTransaction], T], *, attempts: int = 5) -> T:
        return self.store.transaction(lambda tx: fn(_ScopedTransaction(self, tx)), attempts=attempts)

    def tenant(self) -> Tenant:
        data = self.store.get(self.root)
        if data is None:
            raise UnknownTenant(self.tenant_id)
        return Tenant.from_doc(data)


# --- the directory: global operations an operator or sign-up performs ----------------------------

def create_tenant(store: DocumentStore, *, name: str, contact_name: str, contact_email: str,
                  time_zone: str = "America/New_York", country: str = "US", address: Address | None = None,
                  numbers: list[str] = (), tenant_id: str | None = None, owner: bool = True,
                  owner_password_hash: str | None = None) -> Tenant:
    """Sign a business up: the tenant, its numbers and (``owner=True``) its owner user, all in
    one transaction, so a refused number or a taken email leaves nothing behind. With
    ``owner_password_hash`` (self sign-up) the owner is active at once."""
    country = (country or "").upper()
    if country in EU_EEA:
        raise SignupRefused("Z3 OS is not offered in the EU/EEA")
    if country != "US":
        raise SignupRefused("Z3 OS is offered to businesses in the United States only")
    fields: dict[str, Any] = {"name": name, "contact": Contact(name=contact_name, email=contact_email),
                              "time_zone": time_zone, "country": country, "address": address or Address()}
    if tenant_id:
        fields["id"] = _check_id(tenant_id)
    normalized = list(dict.fromkeys(normalize_us(n) for n in numbers))
    tenant = Tenant(**fields, numbers=normalized)
    user = User(tenant_id=tenant.id, email=contact_email, name=contact_name, role=Role.owner,
                password_hash=owner_password_hash,
                status="active" if owner_password_hash else "invited") if owner else None

    def create(tx: Transaction) -> Tenant:
        for number in normalized:
            if tx.get(f"phone_numbers/{number}") is not None:
                raise NumberTaken("the number belongs to another business")
        if user is not None and tx.get(f"user_logins/{email_key(user.email)}") is not None:
            raise ValueError("a user with this email exists")
        tx.create(f"tenants/{tenant.id}", tenant.to_doc())
        for number in normalized:
            tx.create(f"phone_numbers/{number}", {"tenant_id": tenant.id, "assigned_at": tenant.created_at})
        if user is not None:
            tx.create(f"user_logins/{email_key(user.email)}", {"tenant_id": tenant.id, "user_id": user.id})
            tx.create(f"tenants/{tenant.id}/users/{user.id}", user.to_doc())
        return tenant

    try:
        return store.transaction(create)
    except AlreadyExists:
        raise ValueError("a tenant with this id exists") from None


def get_tenant(store: DocumentStore, tenant_id: str) -> Tenant | None:
    data = store.get(f"tenants/{_check_id(tenant_id)}")
    return Tenant.from_doc(data) if data else None


def list_tenants(store: DocumentStore) -> list[Tenant]:
    return [Tenant.from_doc(doc.data) for doc in store.stream(Query("tenants").order_by("created_at"))]


def set_status(store: DocumentStore, tenant_id: str, status: TenantStatus, reason: str | None = None) -> Tenant:
    """:class:`UnknownTenant` when there is no such business (nothing is written)."""
    try:
        store.update(f"tenants/{_check_id(tenant_id)}",
                     {"status": status.value, "status_reason": reason, "updated_at": utcnow()})
    except NotFound:
        raise UnknownTenant(tenant_id) from None
    tenant = get_tenant(store, tenant_id)
    assert tenant is not None
    return tenant


def flag_if_outside_us(store: DocumentStore, tenant_id: str, believed_country: str) -> bool:
    """An account believed to be in the EU/EEA (or elsewhere outside the US) is flagged for
    deletion, as the policy promises. Returns True when it was flagged."""
    country = (believed_country or "").upper()
    if country == "US" or not country:
        return False
    reason = "believed to be in the EU/EEA" if country in EU_EEA else "believed to be outside the US"
    set_status(store, tenant_id, TenantStatus.flagged_for_deletion, reason)
    return True


def assign_number(store: DocumentStore, tenant_id: str, raw_number: str, *, settings: Any = None) -> str:
    """Route an incoming number to a tenant. Idempotent; a number has at most one tenant; no more
    numbers than the business's plan includes (:class:`shared.billing.entitlements.LimitReached`)."""
    number = normalize_us(raw_number)
    tenant_path = f"tenants/{_check_id(tenant_id)}"

    def assign(tx: Transaction) -> str:
        owner = tx.get(f"phone_numbers/{number}")
        tenant = tx.get(tenant_path)
        if tenant is None:
            raise UnknownTenant(tenant_id)
        if owner is not None and owner.get("tenant_id") != tenant_id:
            raise NumberTaken("the number belongs to another business")
        if number not in tenant.get("numbers", []):
            entitlements.check_number(settings or get_settings(), tx.get(f"{tenant_path}/billing/record"),
                                      len(tenant.get("numbers", [])))
        if owner is None:
            tx.set(f"phone_numbers/{number}", {"tenant_id": tenant_id, "assigned_at": utcnow()})
        if number not in tenant.get("numbers", []):
            tx.update(tenant_path, {"numbers": [*tenant.get("numbers", []), number], "updated_at": utcnow()})
        return number

    return store.transaction(assign)


def release_number(store: DocumentStore, tenant_id: str, raw_number: str) -> bool:
    """Stop routing ``raw_number`` to the tenant. Idempotent: True when this call released
    something, False when the tenant did not have the number (nothing changes);
    :class:`UnknownTenant` when there is no such business."""
    number = normalize_us(raw_number)
    tenant_path = f"tenants/{_check_id(tenant_id)}"

    def release(tx: Transaction) -> bool:
        owner = tx.get(f"phone_numbers/{number}")
        tenant = tx.get(tenant_path)
        if tenant is None:
            raise UnknownTenant(tenant_id)
        released = False
        if owner is not None and owner.get("tenant_id") == tenant_id:
            tx.delete(f"phone_numbers/{number}")
            released = True
        if number in tenant.get("numbers", []):
            tx.update(tenant_path, {"numbers": [n for n in tenant["numbers"] if n != number], "updated_at": utcnow()})
            released = True
        return released

    return store.transaction(release)


def number_owner(store: DocumentStore, number: str | None) -> str | None:
    """The id of the tenant the number (E.164, as normalised) is assigned to, or None."""
    if number is None:
        return None
    entry = store.get(f"phone_numbers/{number}")
    return entry.get("tenant_id") if entry else None


def tenant_for_number(store: DocumentStore, raw_to: str | None) -> Tenant | None:
    """The tenant an incoming call or text to ``raw_to`` belongs to, or None."""
    tenant_id = number_owner(store, try_normalize_us(raw_to))
    return get_tenant(store, tenant_id) if tenant_id else None


def add_user(store: DocumentStore, tenant_id: str, *, email: str, role: Role = Role.staff, name: str = "",
             password_hash: str | None = None, settings: Any = None) -> User:
    """Add a member (invited until a password is set); no more active or invited members than the
    plan's seats (:class:`shared.billing.entitlements.LimitReached`)."""
    user = User(tenant_id=_check_id(tenant_id), email=email, role=role, name=name, password_hash=password_hash,
                status="active" if password_hash else "invited")
    key = email_key(user.email)

    def add(tx: Transaction) -> User:
        if tx.get(f"tenants/{tenant_id}") is None:
            raise UnknownTenant(tenant_id)
        if tx.get(f"user_logins/{key}") is not None:
            raise ValueError("a user with this email exists")
        members = [d for d in tx.query(Query(f"tenants/{tenant_id}/users")) if d.get("status") != "disabled"]
        entitlements.check_seat(settings or get_settings(), tx.get(f"tenants/{tenant_id}/billing/record"), len(members))
        tx.create(f"user_logins/{key}", {"tenant_id": tenant_id, "user_id": user.id})
        tx.create(f"tenants/{tenant_id}/users/{user.id}", user.to_doc())
        return user

    return store.transaction(add)


def users(scope: TenantScope) -> list[User]:
    return [User.from_doc(d.data) for d in scope.query(scope.collection("users").order_by("created_at"))]
