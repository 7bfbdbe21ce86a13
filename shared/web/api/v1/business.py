"""``/business``: the business's profile (read by everyone, changed by owners and admins)."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from shared.models.tenant import Tenant, TenantStatus
from shared.phone import InvalidPhoneNumber, normalize_us
from shared.tenants import profile
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint


class ContactOut(BaseModel):
    name: str
    email: str
    phone: str | None


class AddressOut(BaseModel):
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


class BusinessOut(BaseModel):
    id: str
    name: str
    contact: ContactOut
    address: AddressOut
    time_zone: str
    numbers: list[str]
    status: Literal["active", "suspended", "flagged_for_deletion", "closed"]

    @classmethod
    def of(cls, tenant: Tenant) -> "BusinessOut":
        return cls(id=tenant.id, name=tenant.name, time_zone=tenant.time_zone, numbers=tenant.numbers,
                   status=TenantStatus(tenant.status).value, contact=ContactOut(**tenant.contact.model_dump()),
                   address=AddressOut(**tenant.address.model_dump()))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40, description="a US number; empty to remove")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        try:
            return normalize_us(value)
        except InvalidPhoneNumber as exc:
            raise ValueError(str(exc)) from None


class AddressPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, pattern=r"^([A-Z]{2})?$", description="two-letter USPS code")
    postal_code: str | None = Field(default=None, pattern=r"^([0-9]{5}(-[0-9]{4})?)?$")


class BusinessPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact: ContactPatch | None = None
    address: AddressPatch | None = None
    time_zone: str | None = Field(default=None, max_length=64, examples=["America/Denver"])

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zones():
            raise ValueError("unknown time zone")
        return value


@operation(blueprint, "GET", "/business", action="business.read", summary="The business's profile",
           response=BusinessOut)
def get_business() -> BusinessOut:
    return BusinessOut.of(profile.get(auth.ports().store(), auth.principal().tenant_id))


@operation(blueprint, "PATCH", "/business", action="business.update", summary="Change the business's profile",
           response=BusinessOut, body=BusinessPatch)
def patch_business(body: BusinessPatch) -> BusinessOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    contact = changes.get("contact")
    if contact is not None and contact.get("phone") == "":
        contact["phone"] = None
    info, principal = auth.client(), auth.principal()
    tenant = profile.update(auth.ports().store(), auth.now(), tenant_id=principal.tenant_id,
                            actor_user_id=principal.user_id, changes=changes, ip=info.ip, user_agent=info.user_agent)
    return BusinessOut.of(tenant)
