"""TaskQueue on Cloud Tasks HTTP tasks (or the Cloud Tasks emulator).

A task POSTs its body to ``Settings.worker_url(target)`` (in production the target's Cloud Run
URL, which Cloud Run IAM accepts as audience; else ``function_url``), signed with an OIDC token
of ``Z3_TASKS_SERVICE_ACCOUNT`` (audience: that URL) when one is configured. A task ``name``
becomes the task id; Cloud Tasks refuses a second task of the same id (for about an hour after
the first one ran), which is how enqueueing deduplicates.

The emulator (``gcloud-tasks-emulator``, reached over an insecure gRPC channel) POSTs an HTTP
task to its absolute URL, as Cloud Tasks does: its ``--target-host/--target-port`` apply only
to App Engine tasks. It ignores the OIDC token and does not deduplicate names by itself;
``tools/emulators.py`` documents both and adds the deduplication. In emulated mode
(development only) each task therefore also carries the delivery signature of the data
directory's key (``shared.webhooks.invoker``), dated at the task's due time, which the workers
accept in emulated mode only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time

import grpc
from google.api_core import exceptions as gex
from google.api_core import retry as retries
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from shared.adapters.gcp.errors import unavailable_as_store_error
from shared.config import Settings
from shared.ports import StoreUnavailable, TaskRef
from shared.webhooks.invoker import DELIVERY_HEADER, delivery_key, sign_delivery

ENQUEUE_TIMEOUT = 10.0  # seconds, retries included
MAX_TASK_ID = 500
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def task_id(name: str) -> str:
    """A valid Cloud Tasks task id for ``name``: unchanged when it already is one, otherwise
    every other character becomes ``_`` and a short hash of the original keeps ids distinct."""
    if not name:
        raise ValueError("empty task name")
    cleaned = _BAD_CHARS.sub("_", name)
    if cleaned == name and len(name) <= MAX_TASK_ID:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    return f"{cleaned[: MAX_TASK_ID - len(digest) - 1]}-{digest}"


def _retry(timeout: float, *transient: type[Exception]) -> retries.Retry:
    return retries.Retry(initial=0.1, maximum=2.0, multiplier=2.0, timeout=timeout,
                         predicate=retries.if_exception_type(*transient))


class CloudTasksQueue:
    def __init__(self, settings: Settings, *, timeout: float = ENQUEUE_TIMEOUT) -> None:
        self._settings = settings
        self._timeout = timeout
        self._client: tasks_v2.CloudTasksClient | None = None
        self._lock = threading.Lock()
        self._key: bytes | None = None
        # UNAVAILABLE means the request was not processed, so retrying cannot duplicate a task;
        # a named task may also be retried after a timeout or internal error (the name dedups).
        self._retry_unnamed = _retry(timeout, gex.ServiceUnavailable)
        self._retry_named = _retry(timeout, gex.ServiceUnavailable, gex.DeadlineExceeded, gex.InternalServerError)
        self.queue_path = (f"projects/{settings.project}/locations/{settings.z3_region}"
                           f"/queues/{settings.z3_tasks_queue}")

    def _delivery_key(self) -> bytes:
        if self._key is None:
            self._key = delivery_key(self._settings.z3_data_dir)
        return self._key

    def _tasks(self) -> tasks_v2.CloudTasksClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_client(self._settings)
        return self._client

    def enqueue(
        self,
        target: str,
        body: bytes,
        *,
        name: str | None = None,
        schedule_time: dt.datetime | None = None,
        headers: dict[str, str] | None = None,
    ) -> TaskRef:
        url = self._settings.worker_url(target)
        all_headers = dict(headers or {})
        if not any(key.lower() == "content-type" for key in all_headers):
            all_headers["Content-Type"] = "application/json"
        if self._settings.emulated:  # the emulator attaches no OIDC token: sign as the local dispatcher does
            due = schedule_time.timestamp() if schedule_time is not None else None
            all_headers[DELIVERY_HEADER] = sign_delivery(self._delivery_key(), target, bytes(body),
                                                         now=max(time.time(), due or 0.0))
        request = tasks_v2.HttpRequest(http_method=tasks_v2.HttpMethod.POST, url=url, headers=all_headers,
                                       body=bytes(body))
        if self._settings.z3_tasks_service_account:
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self._settings.z3_tasks_service_account,
                                                    audience=url)
        tid = task_id(name) if name is not None else None
        task = tasks_v2.Task(http_request=request)
        if tid is not None:
            task.name = f"{self.queue_path}/tasks/{tid}"
        if schedule_time is not None:
            if schedule_time.tzinfo is None:
                raise ValueError("schedule_time must be timezone-aware")
            task.schedule_time = schedule_time.astimezone(dt.timezone.utc)
        retry = self._retry_unnamed if tid is None else self._retry_named
        what = f"cloud tasks enqueue to {target}"
        try:
            with unavailable_as_store_error(what):
                created = self._tasks().create_task(parent=self.queue_path, task=task, retry=retry,
                                                    timeout=self._timeout)
        except gex.AlreadyExists:  # only a named task can collide
            return TaskRef(name=tid or "", created=False)
        except gex.NotFound as exc:  # the queue is missing (not provisioned yet): retry later
            raise StoreUnavailable(f"{what}: {exc.message}") from exc
        return TaskRef(name=created.name.rsplit("/", 1)[-1], created=True)

    def close(self) -> None:
        client, self._client = self._client, None
        transport = getattr(client, "transport", None)
        if transport is not None:
            transport.close()


def make_client(settings: Settings) -> tasks_v2.CloudTasksClient:
    """A ``CloudTasksClient`` for the settings (the emulator through an insecure gRPC channel)."""
    host = settings.cloud_tasks_emulator_host
    if not host:
        return tasks_v2.CloudTasksClient()
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))
