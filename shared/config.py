"""The one typed Settings of Z3 OS. Nothing else in the code base reads ``os.environ``.

Read it through :func:`get_settings` (cached per process). Tests and tools that need other
values build ``Settings(...)`` directly or call :func:`reset_settings` after changing the
environment.

Local mode (``Z3_BACKEND=local``, the default when no Google project is set) runs on the
embedded backend with well-known development secrets. Any other mode refuses to start while a
required secret is missing or still a placeholder.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# Values that mean "somebody forgot to set this". Compared case-insensitively.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "replace-me", "todo", "xxx", "local-dev-")

# Secrets every deployed function needs. A deployment without one of these is a broken one.
REQUIRED_SECRETS = (
    "twilio_auth_token",
    "retell_api_key",
    "stripe_secret_key",
    "stripe_webhook_secret",
    "intuit_client_secret",
    "intuit_verifier_token",
    "resend_api_key",
    "resend_webhook_secret",
    "z3_session_secret",
)


def _local(name: str) -> SecretStr:
    """A development secret: usable on the embedded backend, refused anywhere else."""
    return SecretStr(f"local-dev-{name}")


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings cannot run a deployment safely."""


class Settings(BaseModel):
    """Every field is read from the environment variable named by its alias (case-insensitive);
    keyword arguments (by alias or by field name) take precedence. A plain pydantic model rather
    than pydantic-settings' BaseSettings: the same behaviour for these flat fields, without
    ~140 ms of imports in every function's cold start."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        given = {key.upper() for key in values}
        environ = {name.upper(): value for name, value in os.environ.items()}
        from_env = {}
        for name, field in type(self).model_fields.items():
            alias = (field.alias or name).upper()
            if alias in environ and alias not in given and name.upper() not in given:
                from_env[field.alias or name] = environ[alias]
        super().__init__(**from_env, **values)

    # --- where we run -------------------------------------------------------------------
    z3_backend: Literal["local", "gcp"] | None = Field(default=None, alias="Z3_BACKEND")
    google_cloud_project: str | None = Field(default=None, alias="GOOGLE_CLOUD_PROJECT")
    z3_region: str = Field(default="us-central1", alias="Z3_REGION")
    public_base_url: str = Field(default="http://127.0.0.1:8080", alias="PUBLIC_BASE_URL")
    z3_data_dir: Path = Field(default=Path(".z3data"), alias="Z3_DATA_DIR")
    z3_function_name: str = Field(default="", alias="K_SERVICE")  # set by Cloud Run / Functions
    z3_log_level: str = Field(default="INFO", alias="Z3_LOG_LEVEL")
    # How long one store call may wait (SQLite's busy timeout; Firestore's RPC timeout and retry
    # deadline): a stuck store answers 503 well inside the providers' deadlines (Retell 10 s,
    # Twilio 15 s, where voice_answer's fallback also needs its own 5 s).
    z3_store_deadline_seconds: float = Field(default=5.0, gt=0, le=60, alias="Z3_STORE_DEADLINE_SECONDS")

    # --- Google Cloud resources (gcp backend) ---------------------------------------------
    z3_bucket: str = Field(default="z3-data", alias="Z3_BUCKET")
    z3_topic_prefix: str = Field(default="z3-", alias="Z3_TOPIC_PREFIX")
    z3_tasks_queue: str = Field(default="z3-default", alias="Z3_TASKS_QUEUE")
    z3_tasks_service_account: str | None = Field(default=None, alias="Z3_TASKS_SERVICE_ACCOUNT")
    # Who may call the workers (shared.webhooks.invoker checks the OIDC token's email): Cloud
    # Scheduler's account (default: the tasks account, which terraform uses for the jobs) and the
    # Eventarc trigger's account of the Pub/Sub subscribers.
    z3_scheduler_invoker: str | None = Field(default=None, alias="Z3_SCHEDULER_INVOKER")
    z3_events_invoker: str | None = Field(default=None, alias="Z3_EVENTS_INVOKER")
    # This function's own Cloud Run URL (https://<service>-<project number>.<region>.run.app):
    # the audience Eventarc and Cloud Scheduler put in their tokens, accepted beside function_url.
    z3_function_run_url: str | None = Field(default=None, alias="Z3_FUNCTION_RUN_URL")
    z3_kms_key: str | None = Field(default=None, alias="Z3_KMS_KEY")
    # Emulators / loopback sandboxes. Google's own libraries also read the first three.
    firestore_emulator_host: str | None = Field(default=None, alias="FIRESTORE_EMULATOR_HOST")
    pubsub_emulator_host: str | None = Field(default=None, alias="PUBSUB_EMULATOR_HOST")
    storage_emulator_host: str | None = Field(default=None, alias="STORAGE_EMULATOR_HOST")
    cloud_tasks_emulator_host: str | None = Field(default=None, alias="CLOUD_TASKS_EMULATOR_HOST")
    kms_endpoint: str | None = Field(default=None, alias="Z3_KMS_ENDPOINT")

    # --- providers --------------------------------------------------------------------------
    twilio_account_sid: str = Field(default="AC" + "0" * 32, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr = Field(default=_local("twilio-auth-token"), alias="TWILIO_AUTH_TOKEN")
    twilio_api_base_url: str | None = Field(default=None, alias="TWILIO_API_BASE_URL")
    # The SharedKey secret of a Twilio Webhooks Setting (a Webhook Rule that, e.g., makes Twilio
    # retry our webhooks on 5xx). Optional: only requests that say they were signed with it use it.
    twilio_webhook_shared_key: SecretStr | None = Field(default=None, alias="TWILIO_WEBHOOK_SHARED_KEY")
    retell_api_key: SecretStr = Field(default=_local("retell-api-key"), alias="RETELL_API_KEY")
    # The API key with the webhook badge in Retell's dashboard: Retell signs webhooks and custom
    # function calls with it, which need not be the key our API calls use. Unset: the API key.
    retell_webhook_key: SecretStr | None = Field(default=None, alias="RETELL_WEBHOOK_KEY")
    retell_base_url: str | None = Field(default=None, alias="RETELL_BASE_URL")
    retell_agent_id: str = Field(default="agent_local", alias="RETELL_AGENT_ID")
    stripe_secret_key: SecretStr = Field(default=_local("stripe-secret-key"), alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: SecretStr = Field(default=_local("stripe-webhook-secret"), alias="STRIPE_WEBHOOK_SECRET")
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    intuit_client_id: str = Field(default="local-intuit-client", alias="INTUIT_CLIENT_ID")
    intuit_client_secret: SecretStr = Field(default=_local("intuit-client-secret"), alias="INTUIT_CLIENT_SECRET")
    intuit_verifier_token: SecretStr = Field(default=_local("intuit-verifier-token"), alias="INTUIT_VERIFIER_TOKEN")
    intuit_environment: Literal["sandbox", "production"] = Field(default="sandbox", alias="INTUIT_ENVIRONMENT")
    resend_api_key: SecretStr = Field(default=_local("resend-api-key"), alias="RESEND_API_KEY")
    # Svix secrets look like "whsec_<base64>"; this local one decodes to 24 bytes.
    resend_webhook_secret: SecretStr = Field(
        default=SecretStr("whsec_bG9jYWwtZGV2LXJlc2VuZC13ZWJob29r"), alias="RESEND_WEBHOOK_SECRET"
    )
    resend_api_url: str | None = Field(default=None, alias="RESEND_API_URL")
    email_from: str = Field(default="Z3 OS <notifications@z3os.local>", alias="Z3_EMAIL_FROM")

    # --- our own secrets ----------------------------------------------------------------
    z3_session_secret: SecretStr = Field(default=_local("session-secret"), alias="Z3_SESSION_SECRET")

    @property
    def backend(self) -> Literal["local", "gcp"]:
        if self.z3_backend:
            return self.z3_backend
        return "gcp" if self.google_cloud_project else "local"

    @property
    def is_local(self) -> bool:
        return self.backend == "local"

    @property
    def emulated(self) -> bool:
        """gcp adapters against the Google emulators (tests): development secrets are allowed,
        because no real provider or real data is reachable from there."""
        return bool(self.firestore_emulator_host)

    @property
    def project(self) -> str:
        return self.google_cloud_project or "z3-local"

    def function_url(self, function_name: str) -> str:
        """The public URL of one function: ``PUBLIC_BASE_URL/<function_name>``.

        Production fronts every function with one HTTPS load balancer that routes by the first
        path segment; webhook signatures are computed over this URL, never over the request's
        own scheme and host (Google's front end rewrites them)."""
        return f"{self.public_base_url.rstrip('/')}/{function_name}"

    def invoker(self, kind: Literal["tasks", "scheduler", "events"]) -> str | None:
        """The service account whose OIDC token a worker of this kind accepts."""
        if kind == "events":
            return self.z3_events_invoker
        if kind == "scheduler":
            return self.z3_scheduler_invoker or self.z3_tasks_service_account
        return self.z3_tasks_service_account

    def topic_id(self, topic: str) -> str:
        return f"{self.z3_topic_prefix}{topic}".replace(".", "-")

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> "Settings":
        if self.backend == "local" or self.emulated:
            return self
        problems: list[str] = []
        if not self.google_cloud_project:
            problems.append("GOOGLE_CLOUD_PROJECT is not set")
        if not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be an https:// URL")
        for name in REQUIRED_SECRETS:
            value = getattr(self, name).get_secret_value().strip()
            env_name = type(self).model_fields[name].alias
            if not value:
                problems.append(f"{env_name} is missing")
            elif any(marker in value.lower() for marker in PLACEHOLDER_MARKERS):
                problems.append(f"{env_name} is a placeholder")
        if problems:
            raise ConfigurationError(
                "Z3 OS refuses to start on the gcp backend: " + "; ".join(problems)
                + ". Set them (Secret Manager in production) or run with Z3_BACKEND=local."
            )
        return self

    def secret(self, name: str) -> str | None:
        """The plain value of a secret setting, for the one place that needs it (None for an
        optional secret that is not set)."""
        value = getattr(self, name)
        return None if value is None else value.get_secret_value()


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and tools that change the environment)."""
    get_settings.cache_clear()
