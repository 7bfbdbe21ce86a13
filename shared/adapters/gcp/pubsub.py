"""EventBus on Cloud Pub/Sub (or its emulator).

One publisher client per process, built on first publish and reused. Batching is tuned for a
function that publishes a few events per request and waits for each: ``max_latency`` is 1 ms
(the library's 10 ms default would add that to every publish), with modest size caps. Each
publish is retried on transient errors for at most ``timeout`` seconds (the library's default
is 600 s), then fails with :class:`StoreUnavailable` so the caller answers 5xx.
"""

from __future__ import annotations

import threading

import grpc
from google.api_core import exceptions as gex
from google.api_core import retry as retries
from google.cloud import pubsub_v1
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

from shared.adapters.gcp.errors import unavailable_as_store_error
from shared.config import Settings
from shared.ports import StoreUnavailable

PUBLISH_TIMEOUT = 10.0  # seconds to wait for the bus to accept a message
_TRANSIENT = (gex.Aborted, gex.Cancelled, gex.DeadlineExceeded, gex.InternalServerError, gex.ResourceExhausted,
              gex.ServiceUnavailable, gex.Unknown)  # the library's own retry codes for Publish


class PubSubBus:
    def __init__(self, settings: Settings, *, timeout: float = PUBLISH_TIMEOUT) -> None:
        self._settings = settings
        self._timeout = timeout
        self._retry = retries.Retry(initial=0.1, maximum=2.0, multiplier=2.0, timeout=timeout,
                                    predicate=retries.if_exception_type(*_TRANSIENT))
        self._client: pubsub_v1.PublisherClient | None = None
        self._lock = threading.Lock()

    def _publisher(self) -> pubsub_v1.PublisherClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_publisher(self._settings)
        return self._client

    def publish(self, topic: str, data: bytes, attributes: dict[str, str] | None = None) -> str:
        """Publish and wait until Pub/Sub accepted the message; returns its message id."""
        attrs = {str(k): str(v) for k, v in (attributes or {}).items()}
        attrs["z3_topic"] = topic
        topic_path = f"projects/{self._settings.project}/topics/{self._settings.topic_id(topic)}"
        what = f"pubsub publish to {topic}"
        try:
            with unavailable_as_store_error(what):
                future = self._publisher().publish(topic_path, bytes(data), retry=self._retry,
                                                   timeout=self._timeout, **attrs)
                return str(future.result(timeout=self._timeout + 1.0))
        except TimeoutError as exc:  # concurrent.futures.TimeoutError is TimeoutError since 3.11
            raise StoreUnavailable(f"{what}: no answer within {self._timeout}s") from exc
        except gex.NotFound as exc:  # the topic is missing (not provisioned yet): retry later
            raise StoreUnavailable(f"{what}: {exc.message}") from exc

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.stop()


def make_publisher(settings: Settings) -> pubsub_v1.PublisherClient:
    """A ``PublisherClient`` for the settings (the emulator through an insecure channel)."""
    batching = pubsub_v1.types.BatchSettings(max_messages=100, max_bytes=1_000_000, max_latency=0.001)
    host = settings.pubsub_emulator_host
    if not host:
        return pubsub_v1.PublisherClient(batch_settings=batching)
    transport = PublisherGrpcTransport(channel=grpc.insecure_channel(host))
    return pubsub_v1.PublisherClient(batch_settings=batching, transport=transport)
