"""``scripts/dev --backend gcp``: the dev stack on the gcp adapters, against the four Google
emulators (Firestore, Pub/Sub, GCS, Cloud Tasks), so a call runs the production chain: Pub/Sub
pushes ``call.completed`` to ``call_completed``, Cloud Tasks delivers ``recording_ingest``,
``notify`` ... to the functions' URLs; there is no local dispatcher.

* Emulators: reused when all four ``*_EMULATOR_HOST`` settings are given (e.g. the ones the
  README starts by hand), otherwise started here (``tools.emulators``) and stopped with the
  stack; their data lives as long as they do.
* Provisioned (``shared.adapters.gcp.provision``): topics, push subscriptions to this stack's
  URLs, the task queue, the bucket. Idempotent, so a restart on reused emulators re-points the
  subscriptions at the new port.
* Cloud KMS: the loopback KMS sandbox at ``/_sandbox/kms`` (``Z3_KMS_ENDPOINT``, ``Z3_KMS_KEY``).
* The emulators send no OIDC token: the stand-ins the workers accept in emulated mode (a push
  token in each push endpoint, the delivery signature on each task) use ``<data dir>/dispatch.key``
  (``shared.webhooks.invoker``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from shared.config import Settings

if TYPE_CHECKING:
    from tools.emulators import Emulators

PROJECT = "z3-local"
KMS_MOUNT = "_sandbox/kms"
EMULATOR_SETTINGS = {"FIRESTORE_EMULATOR_HOST": "firestore_emulator_host",
                     "PUBSUB_EMULATOR_HOST": "pubsub_emulator_host",
                     "STORAGE_EMULATOR_HOST": "storage_emulator_host",
                     "CLOUD_TASKS_EMULATOR_HOST": "cloud_tasks_emulator_host"}


class EmulatorsUnavailable(RuntimeError):
    """The emulators are neither given nor startable here (the message says what is missing)."""


@dataclass
class GcpBackend:
    env: dict[str, str]               # the process settings that select the emulated gcp backend
    started: "Emulators | None"       # emulators this stack started (None: reused)

    @property
    def reused(self) -> bool:
        return self.started is None

    def stop(self) -> None:
        if self.started is not None:
            self.started.stop()


def open_backend(given: Settings, base_url: str, say: Callable[[str], None]) -> GcpBackend:
    """The emulators named by ``given`` (all four ``*_EMULATOR_HOST``), or four started now;
    Cloud KMS is the KMS sandbox the stack at ``base_url`` serves."""
    hosts = {alias: getattr(given, name) for alias, name in EMULATOR_SETTINGS.items()}
    project = given.google_cloud_project or PROJECT
    if all(hosts.values()):
        return GcpBackend(env=_env(project, base_url, {k: str(v) for k, v in hosts.items()}), started=None)
    if any(hosts.values()):
        missing = ", ".join(alias for alias, value in hosts.items() if not value)
        raise EmulatorsUnavailable(f"some emulator addresses are set but not {missing}: set all four, or none "
                                   "to have scripts/dev start its own")
    from tools.emulators import Emulators, gcloud_available

    ok, reason = gcloud_available()
    if not ok:
        raise EmulatorsUnavailable(reason)
    say("Starting the Google emulators (Firestore, Pub/Sub, GCS, Cloud Tasks)...")
    emulators = Emulators.start(project=project)
    say("  started in " + ", ".join(f"{name} {secs:.1f}s" for name, secs in emulators.startup_seconds.items()))
    return GcpBackend(env=_env(project, base_url, emulators.env), started=emulators)


def _env(project: str, base_url: str, hosts: dict[str, str]) -> dict[str, str]:
    return {"Z3_BACKEND": "gcp", "GOOGLE_CLOUD_PROJECT": project,
            "Z3_KMS_KEY": f"projects/{project}/locations/us-central1/keyRings/z3/cryptoKeys/data",
            "Z3_KMS_ENDPOINT": f"{base_url.rstrip('/')}/{KMS_MOUNT}", **hosts}

