"""Creates what the gcp adapters expect to exist, idempotently: for the emulators (tests, the dev
stack). Production gets the same resources from terraform, with IAM and OIDC on the push
subscriptions, which the emulators ignore.

* one topic per entry of ``shared.events.SUBSCRIPTIONS`` (or the mapping given), with one push
  subscription ``<topic id>--<function>`` per subscriber, pushing to :func:`push_endpoint`:
  ``function_url(function)``, which in emulated mode carries the push token that stands in for
  the OIDC token the emulator does not send (``shared.webhooks.invoker``);
* the Cloud Tasks queue ``Z3_TASKS_QUEUE`` in ``Z3_REGION``;
* the bucket ``Z3_BUCKET``.
"""

from __future__ import annotations

from typing import Any, Mapping

from shared.config import Settings

ACK_DEADLINE_SECONDS = 60


def subscription_id(settings: Settings, topic: str, function: str) -> str:
    return f"{settings.topic_id(topic)}--{function}"


def push_endpoint(settings: Settings, function: str) -> str:
    url = settings.function_url(function)
    if not settings.emulated:
        return url
    from shared.webhooks.invoker import PUSH_TOKEN_PARAM, delivery_key, push_token

    return f"{url}?{PUSH_TOKEN_PARAM}={push_token(delivery_key(settings.z3_data_dir), function)}"


def provision(settings: Settings, subscriptions: Mapping[str, tuple[str, ...]] | None = None) -> None:
    """Create the topics, push subscriptions, task queue and bucket that do not exist yet."""
    if subscriptions is None:
        from shared.events import SUBSCRIPTIONS

        subscriptions = SUBSCRIPTIONS
    provision_pubsub(settings, subscriptions)
    provision_tasks(settings)
    provision_bucket(settings)


def provision_pubsub(settings: Settings, subscriptions: Mapping[str, tuple[str, ...]]) -> None:
    from google.api_core import exceptions as gex
    from google.cloud import pubsub_v1

    from shared.adapters.gcp.pubsub import make_publisher

    publisher = make_publisher(settings)
    subscriber = _subscriber(settings, pubsub_v1)
    try:
        for topic, functions in subscriptions.items():
            topic_path = publisher.topic_path(settings.project, settings.topic_id(topic))
            try:
                publisher.create_topic(name=topic_path)
            except gex.AlreadyExists:
                pass
            for function in functions:
                path = subscriber.subscription_path(settings.project, subscription_id(settings, topic, function))
                push = pubsub_v1.types.PushConfig(push_endpoint=push_endpoint(settings, function))
                try:
                    subscriber.create_subscription(request={
                        "name": path, "topic": topic_path, "push_config": push,
                        "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
                    })
                except gex.AlreadyExists:
                    # The base URL may have moved since it was created (a new dev server port).
                    subscriber.modify_push_config(request={"subscription": path, "push_config": push})
    finally:
        subscriber.close()
        publisher.stop()


def _subscriber(settings: Settings, pubsub_v1: Any) -> Any:
    host = settings.pubsub_emulator_host
    if not host:
        return pubsub_v1.SubscriberClient()
    import grpc
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(host)))


def provision_tasks(settings: Settings) -> None:
    from google.api_core import exceptions as gex
    from google.cloud import tasks_v2

    from shared.adapters.gcp.tasks import make_client

    client = make_client(settings)
    parent = f"projects/{settings.project}/locations/{settings.z3_region}"
    try:
        client.create_queue(parent=parent, queue=tasks_v2.Queue(name=f"{parent}/queues/{settings.z3_tasks_queue}"))
    except gex.AlreadyExists:
        pass
    finally:
        client.transport.close()


def provision_bucket(settings: Settings) -> None:
    from google.api_core import exceptions as gex

    from shared.adapters.gcp.storage import make_client

    client = make_client(settings)
    try:
        client.create_bucket(settings.z3_bucket)
    except gex.Conflict:  # already exists (and is ours)
        pass
