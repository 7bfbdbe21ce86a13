"""The gcp backend: Firestore, Pub/Sub, Cloud Tasks, GCS and Cloud KMS adapters of the ports.

Factories are called by ``shared.runtime`` (``build_*``). Importing
this package imports no Google library: every factory imports its adapter module on first use.

Each adapter takes the emulator addresses from ``Settings`` (the ``*_EMULATOR_HOST`` fields)
rather than relying on Google's libraries reading the process environment, so ``Settings`` built
in code and the environment cannot disagree about where the data goes. The adapters map
transient Google failures to ``StoreUnavailable`` with ``shared.adapters.gcp.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings

if TYPE_CHECKING:
    from shared.adapters.gcp.firestore import FirestoreStore
    from shared.adapters.gcp.pubsub import PubSubBus
    from shared.adapters.gcp.storage import GcsBlobStore
    from shared.adapters.gcp.tasks import CloudTasksQueue
    from shared.ports import Cipher


def build_store(settings: Settings) -> "FirestoreStore":
    from shared.adapters.gcp.firestore import FirestoreStore

    return FirestoreStore.from_settings(settings)


def build_bus(settings: Settings) -> "PubSubBus":
    from shared.adapters.gcp.pubsub import PubSubBus

    return PubSubBus(settings)


def build_tasks(settings: Settings) -> "CloudTasksQueue":
    from shared.adapters.gcp.tasks import CloudTasksQueue

    return CloudTasksQueue(settings)


def build_blobs(settings: Settings) -> "GcsBlobStore":
    from shared.adapters.gcp.storage import GcsBlobStore

    return GcsBlobStore.from_settings(settings)


def build_cipher(settings: Settings) -> "Cipher":
    from shared.adapters.gcp.kms import KmsCipher

    return KmsCipher.from_settings(settings)
