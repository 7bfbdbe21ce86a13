"""Which business a Twilio voice request is about, and its tenant document parsed once.

The caller listens to silence while ``voice_answer`` works, so :func:`load_for_answer` reads
the tenant, the call and the caller's contact in one ``get_many`` (plus the number's owner the
first time an instance sees the number). The per-instance caches are verified against the
documents just read on every use: none of them can serve an old setting (see ``_OWNERS``,
``_PARSED``). The Fallback URL answers from them while the store is down
(:func:`last_seen_tenant`).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from shared.errors import InvalidInput
from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.phone import try_normalize_us
from shared.ports import DocumentStore
from shared.tenants import TenantScope, number_owner
from shared.voice.calls import call_path
from shared.voice.contacts import contact_path
from shared.voice.memo import Memo
from shared.voice.params import CallParams

log = get_logger("z3.voice")


def tenant_param(query: Mapping[str, str]) -> str | None:
    value = query.get("t")
    if value is None:
        return None
    if not value or len(value) > 64 or not all(c.isalnum() or c in "_-" for c in value):
        raise InvalidInput("invalid tenant parameter")
    return value


def find_tenant(store: DocumentStore, params: CallParams, query: Mapping[str, str]) -> str | None:
    """The tenant a Twilio request is about: the ``t`` we put into our own callback URLs (signed
    by Twilio as part of the URL), else the owner of the called number."""
    return tenant_param(query) or number_owner(store, try_normalize_us(params.To))


# number -> tenant id. Ids only, and checked on every use against the tenant document we read
# anyway (it lists its numbers), so a number that moved is looked up again, never misrouted.
_OWNERS = Memo(4096)
# tenant id -> (the tenant document as last parsed, its Tenant, a version token). Verified on
# every use: the document just read must equal (``==``, a C-level walk, cheaper than building a
# key from it) the one parsed, else it is parsed again under a new token. It only skips
# re-validating the same document (~0.2 ms per call); it never serves old settings.
_PARSED = Memo(256)
_VERSIONS = itertools.count(1)


class _Parsed(NamedTuple):
    doc: dict[str, Any]  # a private copy: a caller changing its dict must not change what we compare with
    tenant: Tenant
    version: int


def parsed_tenant(data: dict[str, Any]) -> tuple[Tenant, int]:
    """The Tenant of a tenant document and the version token of that exact content."""
    key = data.get("id") or repr(data)
    hit = _PARSED.get(key)
    if hit is None or hit.doc != data:
        hit = _PARSED.put(key, _Parsed(copy.deepcopy(data), Tenant.from_doc(data), next(_VERSIONS)))
    return hit.tenant, hit.version


def parse_tenant(data: dict[str, Any]) -> Tenant:
    return parsed_tenant(data)[0]


@dataclass
class Loaded:
    tenant: Tenant
    call: dict[str, Any] | None
    contact: dict[str, Any] | None
    version: int  # of the tenant document's content: what the TwiML of a route depends on


def load_for_answer(store: DocumentStore, params: CallParams, query: Mapping[str, str], caller: str | None) -> Loaded | None:
    """The tenant, the call document (if any) and the caller's contact, in one ``get_many`` when
    the number's owner is known to this instance (else one more read first)."""
    explicit = tenant_param(query)
    number = try_normalize_us(params.To)
    tenant_id = explicit or _OWNERS.get(number)
    for _ in range(2):
        cached = tenant_id is not None and not explicit
        if tenant_id is None:
            tenant_id = number_owner(store, number)
            if tenant_id is None:
                return None
        scope = TenantScope(store, tenant_id)
        paths = [scope.root, scope.path(call_path(params.CallSid))]
        if caller:
            paths.append(scope.path(contact_path(caller)))
        docs = store.get_many(paths)
        data = docs.get(scope.root)
        if data is not None and (explicit or number in (data.get("numbers") or [])):
            if not explicit and number:
                _OWNERS.put(number, tenant_id)
            tenant, version = parsed_tenant(data)
            return Loaded(tenant, docs.get(paths[1]), docs.get(paths[2]) if caller else None, version)
        if not cached:
            if data is None:
                log.warning("call for a tenant that does not exist", extra={"call_sid": params.CallSid,
                                                                            "tenant_id": tenant_id})
            return None
        _OWNERS.forget(number)  # the number moved: look it up again
        tenant_id = None
    return None



def last_seen_tenant(query: Mapping[str, str], to: str | None) -> Tenant | None:
    """The tenant this instance last parsed for the request (named by ``t``, else by the called
    number), without reading the store; None when this instance has not seen it."""
    tenant_id = tenant_param(query) or _OWNERS.get(try_normalize_us(to))
    hit: _Parsed | None = _PARSED.get(tenant_id) if tenant_id else None
    return hit.tenant if hit is not None else None
