"""``/privacy-requests``: a business owner's privacy requests about the account or about one of
their callers (by number, in the body — never in a URL): export, right to know, correction,
deletion, marketing opt-out. The signed-in owner is the verified requester (sessions need the
password, and 2FA where the business requires it), so the request is acknowledged and its job
(``privacy_jobs``) queued at once; its SLA (acknowledge within 10 business days, complete within
45) and every state change are tracked by :mod:`shared.privacy.requests`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.accounts.errors import InvalidInput, NotFound
from shared.privacy import requests
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.models import ID
from shared.web.api.v1.routes import blueprint


class PrivacyRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["export", "know", "correct", "delete", "marketing-opt-out"]
    number: str | None = Field(default=None, max_length=32,
                               description="a caller's number (US): the request is about that caller's data")
    email: EmailStr | None = Field(default=None, description="where updates go (default: the account's email)")
    child: bool = Field(default=False, description="a deletion of data about a child under 13 (needs number)")
    correction: dict[Literal["name"], str] | None = Field(default=None, description="kind=correct: the new value")


class HistoryOut(BaseModel):
    status: str
    at: dt.datetime
    by: str
    note: str


class PrivacyRequestOut(BaseModel):
    id: str
    kind: str
    subject: Literal["account", "caller"]
    status: str
    received_at: dt.datetime
    acknowledge_by: dt.datetime
    complete_by: dt.datetime
    extended_until: dt.datetime | None
    history: list[HistoryOut]

    @classmethod
    def of(cls, request: requests.Request) -> "PrivacyRequestOut":
        data: dict[str, Any] = request.data
        return cls(id=data["id"], kind=data["kind"], subject=data["subject"], status=data["status"],
                   received_at=data["received_at"], acknowledge_by=data["acknowledge_by"],
                   complete_by=data["complete_by"], extended_until=data.get("extended_until"),
                   history=[HistoryOut(status=h["status"], at=h["at"], by=h["by"], note=h.get("note") or "")
                            for h in data.get("history", [])])


@operation(blueprint, "POST", "/privacy-requests", action="privacy.request",
           summary="Make a privacy request (acknowledged at once: the signed-in owner is verified)",
           response=PrivacyRequestOut, body=PrivacyRequestIn)
def create_privacy_request(body: PrivacyRequestIn) -> PrivacyRequestOut:
    principal, ports = auth.principal(), auth.ports()
    try:
        made = requests.create(ports, tenant_id=principal.tenant_id, kind=body.kind, number=body.number,
                               email=body.email, channel="api", by=principal.user_id, child=body.child,
                               correction=dict(body.correction) if body.correction else None)
    except (requests.RequestError, ValueError) as exc:
        raise InvalidInput(str(exc), field="number" if body.number else "kind") from None
    verified = requests.verify(ports, principal.tenant_id, made.id, by=principal.user_id,
                               method=f"signed-in owner ({principal.auth})")
    return PrivacyRequestOut.of(verified)


@operation(blueprint, "GET", "/privacy-requests/<request_id>", action="privacy.read",
           summary="One privacy request: its status, deadlines and history", response=PrivacyRequestOut,
           path_params={"request_id": ID})
def get_privacy_request(request_id: str) -> PrivacyRequestOut:
    try:
        return PrivacyRequestOut.of(requests.get(auth.ports(), auth.principal().tenant_id, request_id))
    except (LookupError, requests.RequestError):
        raise NotFound("No such privacy request.") from None
