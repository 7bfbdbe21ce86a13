"""Signing a business up, and confirming the owner's email address.

The policy's rules, in order, before anything is stored: the business is in the US (EU/EEA and
every other country refused with a clear message), the person says they are 18 or older and
accepts the terms and the privacy policy, the phone number is a US number, the state a US
state, the password strong enough (``shared.accounts.passwords``). Then the tenant and its owner
are created in one transaction (``shared.tenants.create_tenant``), the accepted versions are
recorded (``shared.accounts.policy``) and a single-use verification link (48 hours) is emailed.
Until the owner opens it the business cannot turn on texting or billing
(:func:`require_verified`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from shared.accounts import audit, links, passwords, policy
from shared.accounts.errors import AlreadyRegistered, Forbidden, InvalidInput, SignupRefused
from shared.models.tenant import EU_EEA, Address, email_key
from shared.notifications import notify_business
from shared.phone import InvalidPhoneNumber, normalize_us
from shared.ports import Ports
from shared.tenants import create_tenant

VERIFY_TTL = dt.timedelta(hours=48)

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split())
US_TIME_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                 "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico")
TEAM_SIZES = ("1", "2-5", "6-20", "21-50", "51+")


class SignupForm(BaseModel):
    """What the sign-up page and API take (the same model for both)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")
    business_name: str = Field(min_length=1, max_length=200)
    owner_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str = Field(min_length=1, max_length=40)
    country: str = Field(default="US", min_length=2, max_length=2)
    state: str = Field(min_length=2, max_length=2)
    time_zone: str
    industry: str | None = Field(default=None, max_length=100)
    team_size: str | None = None
    password: str = Field(max_length=passwords.MAX_LENGTH)
    adult_and_accepts: bool = False

    @field_validator("country", "state")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in US_TIME_ZONES:
            raise ValueError("choose a US time zone")
        zoneinfo.ZoneInfo(value)
        return value

    @field_validator("team_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in TEAM_SIZES:
            raise ValueError("choose a team size from the list")
        return value


def refuse_outside_us(country: str | None) -> None:
    country = (country or "").strip().upper()
    if country in EU_EEA:
        raise SignupRefused("Z3 OS is not offered in the EU or the EEA, so we cannot create this account.",
                            field="country")
    if country != "US":
        raise SignupRefused("Z3 OS is offered to businesses in the United States only.", field="country")


def parse(data: dict) -> SignupForm:
    """The form, with the US rule checked first (before validation of anything else): a
    European business hears why, not that its phone number is not a US number."""
    refuse_outside_us(str(data.get("country") or "US"))
    try:
        return SignupForm.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else None
        raise InvalidInput(f"{(field or 'form').replace('_', ' ')}: {first['msg']}", field=field) from None


def sign_up(ports: Ports, form: SignupForm, *, ip: str, user_agent: str, verify_url: str) -> tuple[str, str]:
    """Create the business and its owner; (tenant_id, user_id)."""
    refuse_outside_us(form.country)
    if not form.adult_and_accepts:
        raise SignupRefused("Confirm that you are 18 or older and accept the terms and the privacy policy.",
                            field="adult_and_accepts")
    if form.state not in US_STATES:
        raise InvalidInput("Choose a US state.", field="state")
    try:
        phone = normalize_us(form.phone)
    except InvalidPhoneNumber:
        raise InvalidInput("Enter a US phone number.", field="phone") from None
    passwords.check_strength(form.password)
    store, now = ports.store(), ports.clock().now()
    if store.get(f"user_logins/{email_key(form.email)}") is not None:
        raise AlreadyRegistered("An account with this email exists. Sign in or reset your password.", field="email")
    try:
        tenant = create_tenant(store, name=form.business_name, contact_name=form.owner_name,
                               contact_email=str(form.email), time_zone=form.time_zone, country="US",
                               address=Address(state=form.state, country="US"),
                               owner_password_hash=passwords.hash_password(form.password))
    except ValueError:
        raise AlreadyRegistered("An account with this email exists. Sign in or reset your password.",
                                field="email") from None
    owner_id = store.get(f"user_logins/{email_key(form.email)}")["user_id"]
    store.update(f"tenants/{tenant.id}", {"contact.phone": phone, "industry": form.industry,
                                          "team_size": form.team_size})
    policy.record_acceptance(store, now, tenant_id=tenant.id, user_id=owner_id, ip=ip, user_agent=user_agent,
                             settings=ports.settings)
    audit.record(store, now, tenant_id=tenant.id, action="account.created", actor_user_id=owner_id, ip=ip,
                 user_agent=user_agent)
    send_verification(ports, tenant.id, owner_id, verify_url=verify_url)
    return tenant.id, owner_id


def send_verification(ports: Ports, tenant_id: str, user_id: str, *, verify_url: str) -> None:
    store, now = ports.store(), ports.clock().now()
    links.revoke(store, "verify", tenant_id=tenant_id, user_id=user_id)
    token = links.create(store, "verify", now, VERIFY_TTL, tenant_id=tenant_id, user_id=user_id)
    notify_business(ports, tenant_id=tenant_id, template="verify_email", to_user_id=user_id,
                    dedup_key=f"verify/{links.digest(token)}",
                    context={"verify_url": f"{verify_url}?token={token}", "expires_in_hours": 48})


def verify_email(ports: Ports, token: str | None) -> tuple[str, str]:
    store, now = ports.store(), ports.clock().now()
    data = links.consume(store, "verify", token, now)
    path = f"tenants/{data['tenant_id']}/users/{data['user_id']}"
    if store.get(path) is None:
        raise Forbidden("This account no longer exists.")
    store.update(path, {"email_verified_at": now})
    audit.record(store, now, tenant_id=data["tenant_id"], action="account.email_verified",
                 actor_user_id=data["user_id"])
    return data["tenant_id"], data["user_id"]


def require_verified(user: dict) -> None:
    """Texting and billing are turned on only by a business whose owner confirmed the email."""
    if not user.get("email_verified_at"):
        raise Forbidden("Confirm your email address first: texting and billing stay off until you do.")
