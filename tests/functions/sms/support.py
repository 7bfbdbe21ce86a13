"""Helpers for the SMS tests: the seeded business and Twilio-signed webhook posts."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from shared.tenants import TenantScope, create_tenant

BUSINESS_NUMBER = "+13035550100"
CALLER = "+13035550142"


def seed_business(ports, tenant_id: str = "t_sunrise", number: str = BUSINESS_NUMBER) -> TenantScope:
    create_tenant(ports.store(), tenant_id=tenant_id, name="Sunrise Plumbing", contact_name="Dana Rivera",
                  contact_email=f"owner-{tenant_id}@sunrise.example", time_zone="America/Denver", numbers=[number])
    return TenantScope(ports.store(), tenant_id)


def message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def inbound_params(body: str, *, sender: str = CALLER, to: str = BUSINESS_NUMBER, sid: str | None = None,
                   account_sid: str = "AC" + "0" * 32, **extra: str) -> dict[str, str]:
    """Twilio's incoming-message parameters."""
    sid = sid or message_sid()
    return {"ToCountry": "US", "ToState": "CO", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "DENVER",
            "FromZip": "80202", "SmsSid": sid, "FromState": "CO", "SmsStatus": "received", "FromCity": "DENVER",
            "Body": body, "FromCountry": "US", "To": to, "ToZip": "80202", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": account_sid, "From": sender, "ApiVersion": "2010-04-01", **extra}


def signed_post(client, settings, function: str, params: dict[str, str], *, signature: str | None = None):
    """POST ``params`` form-encoded to ``function`` with Twilio's signature over our public URL."""
    from twilio.request_validator import RequestValidator

    url = settings.function_url(function)
    sig = signature if signature is not None else RequestValidator(
        settings.secret("twilio_auth_token")).compute_signature(url, params)
    return client(function).post("/", data=urlencode(params), headers={
        "X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"})
