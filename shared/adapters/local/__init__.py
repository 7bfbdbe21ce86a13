"""The embedded backend: SQLite documents, a persisted local queue, files, a local key.

Factories are called by ``shared.runtime``; every port of one data directory shares one
SQLite database."""

from __future__ import annotations

from shared.config import Settings


def _db(settings: Settings):
    from shared.adapters.local.db import database

    return database(settings.z3_data_dir, busy_timeout=settings.z3_store_deadline_seconds)


def build_store(settings: Settings):
    from shared.adapters.local.documents import SqliteDocumentStore

    return SqliteDocumentStore(_db(settings))


def build_bus(settings: Settings):
    from shared.adapters.local.queues import LocalEventBus

    return LocalEventBus(_db(settings), settings)


def build_tasks(settings: Settings):
    from shared.adapters.local.queues import LocalTaskQueue

    return LocalTaskQueue(_db(settings), settings)


def build_blobs(settings: Settings):
    from shared.adapters.local.blobs import FileBlobStore

    return FileBlobStore(settings.z3_data_dir / "blobs")


def build_cipher(settings: Settings):
    from shared.adapters.local.cipher import LocalCipher

    return LocalCipher.from_settings(settings)


def build_dispatcher(settings: Settings, **kwargs):
    from shared.adapters.local.queues import Dispatcher

    return Dispatcher(_db(settings), settings, **kwargs)
