"""Legal holds: ``tenants/{t}/holds/{hold_id}``. An operator places a whole tenant, one caller's
number or one call on hold, with a reason and who placed it; the retention sweep and every
deletion skip what a hold covers, and say so in their report.

Rules this module keeps:

* a hold is never deleted, only released (``released_at``, ``released_by``): the record of why
  data was kept outlives the hold;
* placing and releasing are written to the tenant's audit log (the reason is the operator's
  text; it must not carry a caller's number -- the number is the hold's target field);
* :func:`active` reads a tenant's holds once; :class:`HoldSet.covers` answers per document
  (tenant hold, the document's call sid, or any of its number fields).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Literal

from shared.accounts import audit
from shared.phone import normalize_us
from shared.ports import DocumentStore
from shared.tenants import TenantScope, UnknownTenant
from shared.voice.calls import call_path

HoldKind = Literal["tenant", "number", "call"]
KINDS: tuple[str, ...] = ("tenant", "number", "call")
# the fields of a document that name a caller's number (calls, messages, contacts, consent ...)
NUMBER_FIELDS = ("from", "to", "number", "phone", "customer_phone")


class HoldError(ValueError):
    """A hold that cannot be placed or released as asked."""


@dataclass(frozen=True)
class Hold:
    id: str
    tenant_id: str
    kind: str
    target: str | None  # the E.164 number or the call sid; None for a tenant hold
    reason: str
    placed_by: str
    placed_at: dt.datetime
    released_at: dt.datetime | None = None
    released_by: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HoldSet:
    """The active holds of one tenant."""

    tenant: bool = False
    numbers: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)

    def covers(self, *, call_sid: str | None = None, numbers: Iterable[str | None] = ()) -> bool:
        if self.tenant:
            return True
        if call_sid and call_sid in self.calls:
            return True
        return any(n in self.numbers for n in numbers if n)

    def covers_doc(self, doc_id: str, data: dict[str, Any]) -> bool:
        """Whether a hold covers this document: by the call it belongs to, or by a number it names
        (its id is a number for contacts and consent)."""
        return self.covers(call_sid=data.get("call_sid"),
                           numbers=[doc_id, *(data.get(name) for name in NUMBER_FIELDS)])


def _target(kind: str, target: str | None) -> str | None:
    if kind not in KINDS:
        raise HoldError(f"a hold is on a tenant, a number or a call, not {kind!r}")
    if kind == "tenant":
        if target:
            raise HoldError("a tenant hold takes no number or call")
        return None
    if not target:
        raise HoldError(f"a {kind} hold needs its {'number' if kind == 'number' else 'call sid'}")
    if kind == "number":
        return normalize_us(target)
    call_path(target)  # ValueError on a malformed sid
    return target


def _from_doc(tenant_id: str, data: dict[str, Any]) -> Hold:
    return Hold(id=data["id"], tenant_id=tenant_id, kind=data["kind"], target=data.get("target"),
                reason=data.get("reason", ""), placed_by=data.get("placed_by", ""), placed_at=data["placed_at"],
                released_at=data.get("released_at"), released_by=data.get("released_by"))


def _scope(store: DocumentStore, tenant_id: str) -> TenantScope:
    scope = TenantScope(store, tenant_id)
    if store.get(scope.root) is None:
        raise UnknownTenant(tenant_id)
    return scope


def place(store: DocumentStore, now: dt.datetime, *, tenant_id: str, kind: str, target: str | None, reason: str,
          placed_by: str) -> Hold:
    target = _target(kind, target)
    if not reason.strip():
        raise HoldError("a hold needs a reason")
    if not placed_by.strip():
        raise HoldError("a hold needs the name of who placed it")
    scope = _scope(store, tenant_id)
    hold = Hold(id=f"h_{now.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(4)}", tenant_id=tenant_id, kind=kind,
                target=target, reason=reason.strip(), placed_by=placed_by.strip(), placed_at=now)
    data = hold.to_dict()
    data.pop("tenant_id")
    scope.set(f"holds/{hold.id}", data)
    audit.record(store, now, tenant_id=tenant_id, action="hold.placed", actor_user_id=None, target=hold.id,
                 changes={"kind": kind, "placed_by": hold.placed_by})
    return hold


def release(store: DocumentStore, now: dt.datetime, *, tenant_id: str, hold_id: str, released_by: str) -> Hold:
    scope = _scope(store, tenant_id)
    if "/" in hold_id or not hold_id:
        raise HoldError(f"{hold_id!r} is not a hold id")
    data = scope.get(f"holds/{hold_id}")
    if data is None:
        raise LookupError(f"no hold {hold_id} on {tenant_id}")
    if data.get("released_at") is not None:
        return _from_doc(tenant_id, data)  # released already: idempotent
    if not released_by.strip():
        raise HoldError("releasing a hold needs the name of who released it")
    scope.update(f"holds/{hold_id}", {"released_at": now, "released_by": released_by.strip()})
    audit.record(store, now, tenant_id=tenant_id, action="hold.released", actor_user_id=None, target=hold_id,
                 changes={"released_by": released_by.strip()})
    return _from_doc(tenant_id, {**data, "released_at": now, "released_by": released_by.strip()})


def list_holds(store: DocumentStore, tenant_id: str, *, include_released: bool = False) -> list[Hold]:
    scope = TenantScope(store, tenant_id)
    holds = [_from_doc(tenant_id, doc.data) for doc in store.stream(scope.collection("holds"))]
    holds.sort(key=lambda h: h.placed_at, reverse=True)
    return [h for h in holds if include_released or h.active]


def active(store: DocumentStore, tenant_id: str) -> HoldSet:
    found = HoldSet()
    for hold in list_holds(store, tenant_id):
        if hold.kind == "tenant":
            found.tenant = True
        elif hold.kind == "number" and hold.target:
            found.numbers.add(hold.target)
        elif hold.kind == "call" and hold.target:
            found.calls.add(hold.target)
    return found
