"""``/support-requests``: the help page's support form as an API. Through
:func:`shared.support.requests.submit` (stored two years, the support team and the sender
emailed once each). Idempotent on ``request_id`` as the page's form is: the same id sent again
stores and sends nothing new and answers ``created: false``; without one, each call is a new
request."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.support import requests as support
from shared.web import auth
from shared.web.api.spec import operation
from shared.web.api.v1.routes import blueprint


Topic = Literal[tuple(support.TOPICS)]  # type: ignore[valid-type]  # the form's topics


class SupportRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    subject: str = Field(max_length=150, description="3 to 150 characters")
    message: str = Field(max_length=5000, description="10 to 5,000 characters")
    request_id: str | None = Field(default=None, pattern=r"^sr_[A-Za-z0-9_-]{16,40}$",
                                   description="your idempotency key (sr_ and 16 to 40 letters, digits, _ or -): "
                                               "a retry with the same id sends nothing twice")


class SupportRequestOut(BaseModel):
    id: str = Field(description="the reference our answer quotes")
    created: bool = Field(description="false: this request_id was sent before (nothing new was stored or sent)")
    expire_at: dt.datetime = Field(description="when the stored request is deleted (two years)")


@operation(blueprint, "POST", "/support-requests", action="support.request",
           summary="Ask our support team for help (answered by email)", response=SupportRequestOut,
           status=201, body=SupportRequestIn)
def create_support_request(body: SupportRequestIn) -> SupportRequestOut:
    principal = auth.principal()
    sent = support.submit(auth.ports(), auth.now(), tenant_id=principal.tenant_id, user_id=principal.user_id,
                          request_id=body.request_id or support.new_request_id(), topic=body.topic,
                          subject=body.subject, message=body.message)
    return SupportRequestOut(id=sent.request_id, created=sent.created, expire_at=sent.expire_at)


class LegalDocumentOut(BaseModel):
    title: str
    version: str = Field(description="the version a member accepts at sign-in (a new one asks again)")
    url: str = Field(description="the page that shows it, readable signed in or not")
    published: bool = Field(description="false while the repository has no text for it yet")


class HelpOut(BaseModel):
    topics: list[str] = Field(description="what POST /support-requests accepts as topic")
    privacy_policy: LegalDocumentOut
    terms_of_service: LegalDocumentOut


@operation(blueprint, "GET", "/help", action="account.read",
           summary="The help page's facts: support topics, and the privacy policy and terms with their versions",
           response=HelpOut)
def get_help() -> HelpOut:
    from flask import url_for

    from shared.web import legal

    settings = auth.ports().settings

    def document(name: str, endpoint: str, version: str, fallback: str) -> LegalDocumentOut:
        found = legal.document(name)
        return LegalDocumentOut(title=found.title if found else fallback, version=version,
                                url=url_for(endpoint), published=found is not None)

    return HelpOut(topics=list(support.TOPICS),
                   privacy_policy=document("privacy-policy", "legal.privacy", settings.z3_policy_version,
                                           "Privacy policy"),
                   terms_of_service=document("terms-of-service", "legal.terms", settings.z3_terms_version,
                                             "Terms of service"))
