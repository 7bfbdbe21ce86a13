"""Workers are called on their Cloud Run URL (``Z3_WORKER_URL_TEMPLATE``, which terraform sets),
not through the load balancer: Cloud Run IAM accepts a token only for the service's own URL (or
a custom audience, which gen2 functions cannot be given from Terraform). So a task is created
for the target's Cloud Run URL with that URL as its OIDC audience, and the worker accepts it."""

from __future__ import annotations

import pytest

from shared import runtime, worker
from shared.adapters.gcp.tasks import CloudTasksQueue
from shared.config import Settings
from shared.runtime import Ports
from shared.webhooks.invoker import OidcVerifier, google_certs
from tests.functions.email.test_worker_auth import TASKS_SA, google_key, token  # noqa: F401 - fixture

TEMPLATE = "https://{service}-123456789.us-central1.run.app"


def _settings(tmp_path) -> Settings:
    return Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-test", FIRESTORE_EMULATOR_HOST="127.0.0.1:9",
                    PUBLIC_BASE_URL="https://z3.example", Z3_DATA_DIR=tmp_path / "gcp-data",
                    Z3_TASKS_SERVICE_ACCOUNT=TASKS_SA, Z3_WORKER_URL_TEMPLATE=TEMPLATE)


class _RecordingClient:
    """Stands in for the Cloud Tasks service: keeps the Task the adapter built."""

    def __init__(self) -> None:
        self.tasks = []

    def create_task(self, *, parent, task, retry, timeout):
        self.tasks.append(task)
        return type("Created", (), {"name": f"{parent}/tasks/t1"})()


def test_a_task_targets_the_workers_cloud_run_url_with_that_audience(tmp_path):
    queue = CloudTasksQueue(_settings(tmp_path))
    queue._client = recorder = _RecordingClient()
    queue.enqueue("recording_ingest", b"{}", name="r1")
    request = recorder.tasks[0].http_request
    assert request.url == "https://recording-ingest-123456789.us-central1.run.app"
    assert request.oidc_token.audience == request.url
    assert request.oidc_token.service_account_email == TASKS_SA


def test_without_the_template_tasks_go_to_the_public_url(tmp_path):
    settings = _settings(tmp_path).model_copy(update={"z3_worker_url_template": None})
    assert settings.worker_url("notify") == "https://z3.example/notify"


@pytest.fixture
def gcp_run_urls(tmp_path, ports, google_key):  # noqa: F811
    settings = _settings(tmp_path)
    runtime.use(Ports(settings).provide(store=ports.store(), tasks=ports.tasks(), blobs=ports.blobs(),
                                        clock=ports.clock()))
    worker.use_token_verifier(OidcVerifier(certs=google_certs(google_key[1].url)))
    yield settings
    worker.use_token_verifier(None)


def test_a_worker_accepts_the_task_token_for_its_cloud_run_url(client, gcp_run_urls, google_key):  # noqa: F811
    private, _server = google_key
    run_url = "https://call-finalize-123456789.us-central1.run.app"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token(private, aud=run_url)}"}
    assert client("call_finalize").post("/", data=b'{"not": "a task"}', headers=headers).status_code != 403
    other = {**headers, "Authorization": f"Bearer {token(private, aud='https://notify-123456789.us-central1.run.app')}"}
    assert client("call_finalize").post("/", data=b'{"not": "a task"}', headers=other).status_code == 403
