"""The recording sweep (``recording_sweep``, on a schedule): recordings a lost callback left at
Twilio are found and ingested.

Twilio does not retry a recording status callback, so one that met a 503 (store or queue down)
would leave the recording at Twilio: never in the business's dashboard, never deleted on our
retention schedule. Every completed recording still at Twilio some minutes after it was made is
such a leftover (``recording_ingest`` deletes Twilio's copy once ours is stored). The sweep lists
the account's recent recordings and, for each leftover whose call we answered, queues
``recording_ingest`` again. Safe to run at any time and any number of times:

* a recording younger than :data:`GRACE` is left alone (its callback may still be on its way);
* the task is named after the recording and the day (``recording-{sid}-sweep-{YYYYMMDD}``), so
  repeated sweeps queue it once a day at most, and the ingest itself is idempotent (it reuses a
  stored blob and records each recording once) if the callback's own task also runs;
* the business is found from the call's ``to`` (Twilio's call resource) and the number registry:
  the number's owner if it owned the number when the recording was made, or has the call on
  record. A recording we cannot attribute is not copied anywhere, nor deleted; it is reported
  (by sid) for an operator.

Twilio down: :class:`shared.providers.twilio.TwilioUnavailable` (503), the scheduler retries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.logging import get_logger
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.voice.calls import call_path
from shared.voice.params import IngestRequest

log = get_logger("z3.voice.sweep")

GRACE = dt.timedelta(minutes=15)
LOOKBACK = dt.timedelta(days=7)


@dataclass
class SweepResult:
    listed: int = 0
    too_recent: int = 0
    not_completed: int = 0
    queued: list[str] = field(default_factory=list)
    already_queued: list[str] = field(default_factory=list)
    unattributed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"listed": self.listed, "too_recent": self.too_recent, "not_completed": self.not_completed,
                "queued": self.queued, "already_queued": self.already_queued, "unattributed": self.unattributed}


def _owner(store, called: str | None, call_sid: str, created: dt.datetime | None) -> str | None:
    """The business whose call this was: the called number's owner, if it owned the number when
    the recording was made or has the call on record (a call answered while the store was down,
    through the Fallback URL, has no record yet, and is still theirs)."""
    from shared.phone import try_normalize_us

    number = try_normalize_us(called or "")
    entry = store.get(f"phone_numbers/{number}") if number else None
    tenant_id = entry.get("tenant_id") if entry else None
    if tenant_id is None:
        return None
    assigned = entry.get("assigned_at")
    if assigned is None or (created is not None and created >= assigned):
        return tenant_id
    if TenantScope(store, tenant_id).get(call_path(call_sid)) is not None:
        return tenant_id
    return None  # the number changed hands after this call: not the current owner's


def sweep_task_name(recording_sid: str, now: dt.datetime) -> str:
    return f"recording-{recording_sid}-sweep-{now:%Y%m%d}"


def sweep_recordings(ports: Ports, *, lookback: dt.timedelta = LOOKBACK, grace: dt.timedelta = GRACE) -> SweepResult:
    from shared.providers import twilio

    settings = ports.settings
    store = ports.store()
    now = ports.clock().now()
    result = SweepResult()
    owners: dict[str, str | None] = {}  # call sid -> tenant id (a call may have several recordings)
    for recording in twilio.list_recordings(settings, created_after=now - lookback):
        result.listed += 1
        if recording.status != "completed":
            result.not_completed += 1
            continue
        created = recording.date_created
        if created is not None and now - created < grace:
            result.too_recent += 1
            continue
        call_sid = recording.call_sid
        if call_sid not in owners:
            owners[call_sid] = _owner(store, twilio.called_number(settings, call_sid) if call_sid else None,
                                      call_sid, created)
        tenant_id = owners[call_sid]
        if tenant_id is None:
            result.unattributed.append(recording.sid)
            continue
        duration = int(recording.duration) if str(recording.duration or "").isdigit() else None
        request = IngestRequest(tenant_id=tenant_id, call_sid=call_sid, recording_sid=recording.sid,
                                duration=duration)
        ref = ports.tasks().enqueue("recording_ingest", request.to_bytes(), name=sweep_task_name(recording.sid, now))
        (result.queued if ref.created else result.already_queued).append(recording.sid)
    log.info("recording sweep", extra={"listed": result.listed, "queued": len(result.queued),
                                       "already_queued": len(result.already_queued),
                                       "unattributed": result.unattributed, "too_recent": result.too_recent})
    if result.unattributed:
        log.warning("recordings at Twilio that no business's call explains",
                    extra={"recording_sids": result.unattributed})
    return result
