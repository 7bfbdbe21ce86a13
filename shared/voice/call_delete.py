"""Deleting one call on a member's request: the provider copies first, then ours, then the audit
entry.

Rules this module keeps:

* Order: Twilio's copy of each Twilio recording (``recordings(sid).delete()``; already gone is
  fine) and Retell's copy of the AI call (``call.delete``), then our recording files, the call
  facts, the Retell index entry and the call record. A provider that is down raises
  ``StoreUnavailable`` (503) before anything of ours went: the member retries and nothing is
  left half-deleted that we could no longer find.
* The audit entry names the call by its sid only (the caller's number is deleted with it).
"""

from __future__ import annotations

from shared.accounts import audit
from shared.logging import get_logger
from shared.ports import Ports, StoreUnavailable
from shared.tenants import TenantScope
from shared.voice import overview
from shared.voice.calls import call_path, require_call, retell_index_path

log = get_logger("z3.voice.delete")


def delete_call(ports: Ports, tenant_id: str, call_sid: str, *, actor_user_id: str | None, by: str = "member",
                ip: str = "", user_agent: str = "") -> int:
    """Returns how many recordings went with the call. ``actor_user_id`` None and ``by``
    "operator" for ``scripts/ops calls delete``."""
    from shared.providers import retell, twilio

    scope = TenantScope(ports.store(), tenant_id)
    call = require_call(scope, call_sid)
    for recording in call.recordings:
        if recording.source == "twilio":
            twilio.delete_recording(ports.settings, recording.recording_sid)
    if call.retell_call_id:
        try:
            retell.delete_call(ports.settings, call.retell_call_id)
        except retell.RetellUnavailable as exc:
            raise StoreUnavailable(f"retell call delete: {exc}") from None
    blobs = ports.blobs()
    for recording in call.recordings:
        blobs.delete(recording.blob_path)
    batch = ports.store().batch()
    batch.delete(scope.path(f"call_facts/{call_sid}"))
    if call.retell_call_id:
        batch.delete(retell_index_path(call.retell_call_id))
    batch.delete(scope.path(call_path(call_sid)))
    batch.commit()
    overview.forget_day(scope, call.created_at)  # the overview counts that day again
    audit.record(ports.store(), ports.clock().now(), tenant_id=tenant_id, action="call.deleted",
                 actor_user_id=actor_user_id, ip=ip, user_agent=user_agent, target=call_sid,
                 changes={"recordings": len(call.recordings), "ai_call": bool(call.retell_call_id), "by": by})
    log.info("call deleted", extra={"tenant_id": tenant_id, "call_sid": call_sid, "recordings": len(call.recordings)})
    return len(call.recordings)
