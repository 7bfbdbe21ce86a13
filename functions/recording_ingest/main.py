"""recording_ingest: Cloud Tasks target that copies a Twilio recording into our storage and
deletes Twilio's copy. Only the tasks invoker's OIDC token can call it (IAM on the function; shared.worker checks the token again);
raise to retry, answer 2xx when done."""

import functions_framework
import twilio.rest  # noqa: F401  (its Twilio client: imported at instance start-up, not per task)

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker
from shared.voice.ingest import ingest_recording
from shared.voice.params import IngestRequest


def _handle(req: Incoming) -> Reply:
    request = IngestRequest.model_validate_json(req.raw_body or b"{}")
    result = ingest_recording(runtime.current(), request)
    if result is None:
        return Reply.json({"result": "business unknown: provider copy deleted"})
    return Reply.json({"result": "stored", "blob_path": result.blob_path, "size": result.size,
                       "sha256": result.sha256, "downloaded": result.downloaded, "added": result.added})


@functions_framework.http
def recording_ingest(request):
    return handle_worker(request, "recording_ingest", handler=_handle)
