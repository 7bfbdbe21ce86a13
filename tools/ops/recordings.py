"""``scripts/ops recordings sweep``: queue the ingest of recordings a lost callback left at
Twilio (what ``recording_sweep`` does on its schedule). Exit status 3 when some cannot be
attributed.

On the local backend it needs a Twilio that is not Twilio: the sandbox of the dev stack serving
the same data dir (found through ``stack.json``), or an explicit ``TWILIO_API_BASE_URL``. The
local development credentials would only be refused by the real Twilio."""

from __future__ import annotations

import argparse

from shared.runtime import Ports
from shared.voice.sweep import sweep_recordings
from tools.ops.context import REFUSED, OpsError, out, out_json


def sweep(args: argparse.Namespace, ports: Ports) -> int:
    settings = ports.settings
    if settings.is_local and not settings.twilio_api_base_url:
        raise OpsError(f"no local stack is running on {settings.z3_data_dir.resolve()}, so there is no Twilio "
                       "sandbox to sweep: start scripts/dev with this data dir (or set TWILIO_API_BASE_URL)")
    result = sweep_recordings(ports)
    if args.json:
        out_json(result.to_dict())
    else:
        out(f"listed {result.listed} recordings at Twilio: {len(result.queued)} queued for ingest, "
            f"{len(result.already_queued)} already queued today, {result.too_recent} too recent to judge, "
            f"{result.not_completed} not completed")
        for sid in result.unattributed:
            out(f"  no business's call explains {sid} (left at Twilio)")
    return REFUSED if result.unattributed else 0
