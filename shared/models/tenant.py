"""Tenants (the businesses), their users, and phone numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from enum import Enum
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from shared.models.base import Model, new_id, utcnow
from shared.scheduling.settings import SchedulingSettings
from shared.voice.settings import VoiceSettings

# The policy: the service is offered in the United States only; EU/EEA sign-ups are refused.
EU_EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})


class TenantStatus(str, Enum):
    active = "active"
    suspended = "suspended"  # e.g. unpaid: calls go to voicemail
    flagged_for_deletion = "flagged_for_deletion"  # e.g. believed to be in the EU/EEA
    closed = "closed"


class Role(str, Enum):
    owner = "owner"  # everything, including billing and deleting the account
    admin = "admin"  # settings, team, data
    staff = "staff"  # calls, messages, contacts, calendar
    viewer = "viewer"  # read only


class Contact(Model):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = None  # E.164


class Address(Model):
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""  # two-letter USPS code
    postal_code: str = ""
    country: str = "US"


class TenantSettings(Model):
    """What the business controls (changed through ``shared.tenants.business_settings``).

    The greeting is ``voice.greeting``, beside the rest of how calls are answered, and every path
    that greets reads it (``shared.voice.settings.greeting``). Documents written before that kept a
    top-level ``settings.greeting``: it is read as ``voice.greeting`` when that one is empty."""

    recording_notice: str = Field(default="This call may be recorded.", max_length=500)
    # Days recordings / transcripts are kept; None: kept until the business deletes them
    # (the settings page offers 30, 90, 180, 365 days or forever, ``shared.tenants.business_settings``).
    recording_retention_days: int | None = Field(default=90, ge=1, le=3650)
    transcript_retention_days: int | None = Field(default=90, ge=1, le=3650)
    marketing_email_opt_in: bool = False
    # The business keeps its call data out of service-improvement use (privacy policy).
    service_improvement_opt_out: bool = False
    # notification template -> the user ids that get it; a template not listed goes to the
    # owners and admins (``shared.email.mailer.resolve_recipients``).
    notification_recipients: dict[str, list[str]] = Field(default_factory=dict)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    scheduling: SchedulingSettings = Field(default_factory=SchedulingSettings)

    @model_validator(mode="before")
    @classmethod
    def _legacy_greeting(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "greeting" not in data:
            return data
        data = dict(data)
        legacy = data.pop("greeting")
        voice = data.get("voice")
        voice = voice.model_dump() if isinstance(voice, VoiceSettings) else dict(voice or {})
        if isinstance(legacy, str) and legacy.strip() and not (voice.get("greeting") or "").strip():
            data["voice"] = {**voice, "greeting": legacy}
        return data


class Tenant(Model):
    id: str = Field(default_factory=lambda: new_id("t"))
    name: str = Field(min_length=1, max_length=200)
    contact: Contact
    address: Address = Field(default_factory=Address)
    time_zone: str = "America/New_York"
    country: str = "US"
    status: TenantStatus = TenantStatus.active
    status_reason: str | None = None
    settings: TenantSettings = Field(default_factory=TenantSettings)
    numbers: list[str] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return value.upper()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def in_service(self) -> bool:
        return self.status == TenantStatus.active


class User(Model):
    id: str = Field(default_factory=lambda: new_id("u"))
    tenant_id: str
    email: EmailStr
    name: str = ""
    role: Role = Role.staff
    status: Literal["invited", "active", "disabled"] = "invited"
    password_hash: str | None = None  # Argon2id, never the password
    created_at: dt.datetime = Field(default_factory=utcnow)


def email_key(email: str) -> str:
    """The id of a global login lookup: a hash, so the global collection holds no address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
