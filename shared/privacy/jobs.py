"""The ``privacy_jobs`` worker's message: one task per verified privacy request, named after
it (``privacy-{tenant}-{request}``), so a request is queued once; the run is idempotent."""

from __future__ import annotations

from pydantic import Field

from shared.models.base import Message


class JobTask(Message):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    request_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
