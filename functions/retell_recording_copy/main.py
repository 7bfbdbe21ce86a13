"""retell_recording_copy: Cloud Tasks target that copies a Retell recording (its signed URL
lives ~10 minutes) into our storage. Only the tasks invoker's OIDC token can call it (IAM on
the function; shared.worker checks the token again); raise to retry, answer 2xx when done."""

import functions_framework

from shared import runtime
from shared.http import Incoming, Reply
from shared.worker import handle_worker


def _handle(req: Incoming) -> Reply:
    from shared.voice.agent_recording import NotAudio, copy_recording
    from shared.voice.agent_webhook import RecordingCopyTask
    from shared.voice.recording_url import UnsafeRecordingUrl

    task = RecordingCopyTask.model_validate_json(req.raw_body or b"{}")
    try:
        result = copy_recording(runtime.current(), task)
    except NotAudio as exc:
        # The recording URL answered garbage: 502 (an upstream fault), retried by the queue.
        return Reply.json({"error": str(exc)}, 502)
    except UnsafeRecordingUrl as exc:
        # Not Retell's recording host: fetching it again cannot help. Acknowledged, not copied.
        return Reply.json({"result": "refused", "reason": exc.reason})
    if result is None:
        return Reply.json({"result": "business unknown: not copied"})
    return Reply.json({"result": "stored", "blob_path": result.blob_path, "size": result.size,
                       "sha256": result.sha256, "downloaded": result.downloaded, "added": result.added})


@functions_framework.http
def retell_recording_copy(request):
    return handle_worker(request, "retell_recording_copy", handler=_handle)
