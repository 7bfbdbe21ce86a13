"""The one typed Settings of Z3 OS. Nothing else in the code base reads ``os.environ``.

Read it through :func:`get_settings` (cached per process). Tests and tools that need other
values build ``Settings(...)`` directly or call :func:`reset_settings` after changing the
environment.

Local mode (``Z3_BACKEND=local``, the default when no Google project is set) runs on the
embedded backend with well-known development secrets. Any other mode (except against the Google
emulators) refuses to start while a secret the function reads is missing, a placeholder (a marker
below, or the field's own development default) or shorter than :data:`MIN_SECRET_LENGTH`; while a
provider base URL is not https on that provider's own hosts; and local or emulator mode refuses
to start on Cloud Functions (``K_SERVICE`` set). Messages name the variable, never the value.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import typing
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# Values that mean "somebody forgot to set this". Compared case-insensitively.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "replace-me", "todo", "xxx", "local-dev-")

# Secrets shorter than this are refused outside local mode (provider secrets are all longer).
MIN_SECRET_LENGTH = 16
# Our own secrets, which we generate: `openssl rand -base64 32`.
MIN_OWN_SECRET_LENGTH = 32

# The secrets each deployed function reads, keyed by its name (K_SERVICE on Cloud Functions), so
# Terraform mounts each secret into the functions that need it and no other. A function starts
# with exactly the required ones among these set; optional ones (default None) are checked only
# when set. tests/unit/test_function_secrets.py walks each function's imports and checks that
# this table lists every secret its code can read.
FUNCTION_SECRETS: dict[str, tuple[str, ...]] = {
    # Stripe: the billing API; Twilio: texts sent and recordings deleted from the dashboard; Retell: its
    # copy of a deleted call; Google: appointment changes reach the calendar; media key: recording links
    # Intuit: the privacy API reaches the deletion cascade's erasers (static walk: over-approximate)
    "app": ("stripe_secret_key", "z3_api_token_pepper", "z3_media_signing_key", "twilio_auth_token", "retell_api_key",
            "google_client_secret", "intuit_client_secret"),
    "billing_grace": ("stripe_secret_key",),
    "billing_usage": ("stripe_secret_key",),
    "call_completed": (),
    "call_finalize": ("retell_api_key",),
    "crm_push": (),
    "email_events": ("resend_webhook_secret", "resend_api_key"),
    "email_unsubscribe": ("z3_session_secret",),
    "notify": ("resend_api_key", "z3_session_secret"),
    "oauth_callback": ("intuit_client_secret", "google_client_secret"),
    "quickbooks_sync": ("intuit_client_secret",),
    "quickbooks_webhook": ("intuit_verifier_token", "intuit_client_secret"),
    "privacy_jobs": ("retell_api_key", "twilio_auth_token", "stripe_secret_key", "intuit_client_secret",
                     "google_client_secret"),  # the providers' copies a deletion erases
    "recording_ingest": ("twilio_auth_token",),
    "recording_sweep": ("twilio_auth_token",),
    "retention_sweep": (),
    "retell_recording_copy": ("retell_api_key", "twilio_auth_token"),
    "retell_tools": ("retell_api_key", "retell_webhook_key", "twilio_auth_token", "google_client_secret"),
    "retell_webhook": ("retell_api_key", "retell_webhook_key", "twilio_auth_token", "google_client_secret"),
    "sms_inbound": ("twilio_auth_token", "twilio_webhook_shared_key"),
    "sms_status": ("twilio_auth_token", "twilio_webhook_shared_key"),
    "stripe_events": ("stripe_secret_key", "stripe_webhook_secret"),
    "voice_answer": ("twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"),
    "voice_ivr": ("twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"),
    "voice_status": ("twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"),
}

# Provider base URLs: outside local mode, https on the provider's own domain (or a subdomain of
# it: Twilio's regional edges api.<edge>.<region>.twilio.com, Google's regional endpoints). A
# base URL elsewhere would send the provider's credentials there.
PROVIDER_DOMAINS: dict[str, tuple[str, ...]] = {
    "twilio_api_base_url": ("twilio.com",),
    "retell_base_url": ("retellai.com",),
    "resend_api_url": ("resend.com",),
    "stripe_api_base": ("stripe.com",),
    "kms_endpoint": ("googleapis.com",),
    "intuit_discovery_url": ("intuit.com",),
    "intuit_api_base_url": ("intuit.com",),
    "google_oauth_auth_url": ("google.com",),
    "google_oauth_token_url": ("googleapis.com",),
    "google_oauth_revoke_url": ("googleapis.com",),
    "google_calendar_api_url": ("googleapis.com",),
}

# Secrets needed where no function name says otherwise (operator tools on the gcp backend).
REQUIRED_SECRETS = (
    "twilio_auth_token",
    "retell_api_key",
    "stripe_secret_key",
    "stripe_webhook_secret",
    "intuit_client_secret",
    "intuit_verifier_token",
    "google_client_secret",
    "resend_api_key",
    "resend_webhook_secret",
    "z3_session_secret",
    "z3_api_token_pepper",
    "z3_media_signing_key",
)


def _local(name: str) -> SecretStr:
    """A development secret: usable on the embedded backend, refused anywhere else."""
    return SecretStr(f"local-dev-{name}")


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings cannot run a deployment safely."""



def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): a sandbox on this machine."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

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
    # How long one retention_sweep invocation works before it queues its continuation (its
    # timeout is 540 s: a page never takes the rest).
    z3_retention_budget_seconds: float = Field(default=240.0, ge=0, le=480, alias="Z3_RETENTION_BUDGET_SECONDS")

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
    # Where workers are called (tasks, Pub/Sub push, Cloud Scheduler): the Cloud Run URL of each
    # function's service, ``https://{service}-<project number>.<region>.run.app`` with
    # ``{service}`` standing for the service name (the function name with "-" for "_"). Cloud
    # Run IAM accepts a token whose audience is that URL, not the load balancer's
    # PUBLIC_BASE_URL/<function>, and workers are not behind the load balancer. Unset (local,
    # emulators): workers are called at function_url.
    z3_worker_url_template: str | None = Field(default=None, alias="Z3_WORKER_URL_TEMPLATE")
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
    # Hosts Retell serves recording_url from (comma-separated, exact names; see
    # shared/voice/recording_url.py). Loopback hosts are added in local and emulator mode only.
    retell_recording_hosts: str = Field(
        default="dxc03zgurdly9.cloudfront.net,retellai.s3.us-west-2.amazonaws.com", alias="RETELL_RECORDING_HOSTS")
    stripe_secret_key: SecretStr = Field(default=_local("stripe-secret-key"), alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: SecretStr = Field(default=_local("stripe-webhook-secret"), alias="STRIPE_WEBHOOK_SECRET")
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    intuit_client_id: str = Field(default="local-intuit-client", alias="INTUIT_CLIENT_ID")
    intuit_client_secret: SecretStr = Field(default=_local("intuit-client-secret"), alias="INTUIT_CLIENT_SECRET")
    intuit_verifier_token: SecretStr = Field(default=_local("intuit-verifier-token"), alias="INTUIT_VERIFIER_TOKEN")
    intuit_environment: Literal["sandbox", "production"] = Field(default="sandbox", alias="INTUIT_ENVIRONMENT")
    # Where intuit-oauth reads Intuit's OAuth endpoints (its discovery document; unset: Intuit's
    # own for INTUIT_ENVIRONMENT) and the accounting API's host (unset: Intuit's sandbox or
    # production host). The loopback sandbox (tools/sandboxes/intuit.py) serves both.
    intuit_discovery_url: str | None = Field(default=None, alias="INTUIT_DISCOVERY_URL")
    intuit_api_base_url: str | None = Field(default=None, alias="INTUIT_API_BASE_URL")
    # Google Calendar (OAuth web client of the Google Cloud console). The four URLs default to
    # Google's own endpoints; the loopback sandbox (tools/sandboxes/google.py) serves them all.
    google_client_id: str = Field(default="local-google-client.apps.googleusercontent.com", alias="GOOGLE_CLIENT_ID")
    google_client_secret: SecretStr = Field(default=_local("google-client-secret"), alias="GOOGLE_CLIENT_SECRET")
    google_oauth_auth_url: str | None = Field(default=None, alias="GOOGLE_OAUTH_AUTH_URL")
    google_oauth_token_url: str | None = Field(default=None, alias="GOOGLE_OAUTH_TOKEN_URL")
    google_oauth_revoke_url: str | None = Field(default=None, alias="GOOGLE_OAUTH_REVOKE_URL")
    google_calendar_api_url: str | None = Field(default=None, alias="GOOGLE_CALENDAR_API_URL")
    resend_api_key: SecretStr = Field(default=_local("resend-api-key"), alias="RESEND_API_KEY")
    # Svix secrets look like "whsec_<base64>"; this local one is valid base64 (24 bytes) and says
    # what it is.
    resend_webhook_secret: SecretStr = Field(
        default=SecretStr("whsec_placeholderLocalDevResendWebhook"), alias="RESEND_WEBHOOK_SECRET"
    )
    resend_api_url: str | None = Field(default=None, alias="RESEND_API_URL")
    email_from: str = Field(default="Z3 OS <notifications@z3os.local>", alias="Z3_EMAIL_FROM")
    # Where the help page's support requests are emailed (shared.support.requests): the company's
    # support desk (the policy's domain); locally they land in the mail viewer like every email.
    z3_support_email: str = Field(default="support@z3os.com", alias="Z3_SUPPORT_EMAIL",
                                  pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    # --- billing (Stripe; shared/billing) -------------------------------------------------
    # The plan catalogue (shared/billing/plans.py): JSON, a list of plans; empty: the built-in
    # Starter and Pro with the two price ids below (Stripe price ids of the dashboard's products).
    z3_billing_plans: str = Field(default="", alias="Z3_BILLING_PLANS")
    stripe_price_starter: str = Field(default="price_z3_starter_monthly", alias="STRIPE_PRICE_STARTER")
    stripe_price_pro: str = Field(default="price_z3_pro_monthly", alias="STRIPE_PRICE_PRO")
    # The metered price's meter (its event_name in Stripe) that billable AI minutes are sent to.
    stripe_meter_event_name: str = Field(default="z3_ai_minutes", alias="STRIPE_METER_EVENT_NAME")
    z3_billing_trial_days: int = Field(default=14, ge=0, le=90, alias="Z3_BILLING_TRIAL_DAYS")
    # past_due keeps service this long (a banner and emails), then the business is suspended.
    z3_billing_grace_days: int = Field(default=7, ge=0, le=60, alias="Z3_BILLING_GRACE_DAYS")

    # --- our own secrets ----------------------------------------------------------------
    z3_session_secret: SecretStr = Field(default=_local("session-secret"), alias="Z3_SESSION_SECRET")

    # --- the app function (tenant dashboard and API): shared/accounts, shared/web ---------------
    # The versions of the privacy policy and the terms in force: a new value makes every owner
    # accept again at the next sign-in (and get one email about it).
    z3_policy_version: str = Field(default="2026-01-01", alias="Z3_POLICY_VERSION")
    z3_terms_version: str = Field(default="2026-01-01", alias="Z3_TERMS_VERSION")
    # Behind the HTTPS load balancer Google appends "<client ip>,<load balancer ip>" to
    # X-Forwarded-For: the client is this many entries from the end. 1 for a function reached
    # directly on its run.app URL. Ignored in local mode (the socket's address is the client).
    z3_forwarded_hops: int = Field(default=2, ge=1, le=5, alias="Z3_FORWARDED_HOPS")
    # The key of the keyed hash (HMAC-SHA256) personal API tokens are stored under
    # (shared.accounts.tokens). Rotating it revokes every token. `openssl rand -base64 32`.
    z3_api_token_pepper: SecretStr = Field(default=_local("api-token-pepper"), alias="Z3_API_TOKEN_PEPPER")
    # The HMAC key of the short-lived recording links the dashboard's audio player streams from
    # (shared.voice.recording_links). Rotating it only ends links already handed out (5 minutes).
    z3_media_signing_key: SecretStr = Field(default=_local("media-signing-key"), alias="Z3_MEDIA_SIGNING_KEY")

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
    def storage_emulator_endpoint(self) -> str | None:
        """``STORAGE_EMULATOR_HOST`` as a URL (the variable may omit the scheme), or None."""
        host = self.storage_emulator_host
        if not host:
            return None
        return host if "://" in host else f"http://{host}"

    @property
    def development(self) -> bool:
        """The embedded backend or the emulators: a developer's machine, not a deployment."""
        return self.is_local or self.emulated

    @property
    def recording_hosts(self) -> frozenset[str]:
        return frozenset(host.strip().lower() for host in self.retell_recording_hosts.split(",") if host.strip())

    @property
    def project(self) -> str:
        return self.google_cloud_project or "z3-local"

    def allow_loopback_oauth(self, url: str) -> None:
        """oauthlib refuses an ``http://`` token endpoint unless ``OAUTHLIB_INSECURE_TRANSPORT``
        is set: allow it for a loopback sandbox in development mode only (outside it the
        provider URLs must be https on the provider's domain, see ``PROVIDER_DOMAINS``)."""
        if self.development and is_loopback_host(urlsplit(url).hostname):
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

    def function_url(self, function_name: str) -> str:
        """The public URL of one function: ``PUBLIC_BASE_URL/<function_name>``.

        Production fronts every function with one HTTPS load balancer that routes by the first
        path segment; webhook signatures are computed over this URL, never over the request's
        own scheme and host (Google's front end rewrites them)."""
        return f"{self.public_base_url.rstrip('/')}/{function_name}"

    def worker_url(self, function_name: str) -> str:
        """The URL (and OIDC audience) a task, push or scheduled job uses to call a worker:
        its Cloud Run URL per ``Z3_WORKER_URL_TEMPLATE``, else :meth:`function_url`."""
        if self.z3_worker_url_template:
            return self.z3_worker_url_template.replace("{service}", function_name.replace("_", "-"))
        return self.function_url(function_name)

    def invoker(self, kind: Literal["tasks", "scheduler", "events"]) -> str | None:
        """The service account whose OIDC token a worker of this kind accepts."""
        if kind == "events":
            return self.z3_events_invoker
        if kind == "scheduler":
            return self.z3_scheduler_invoker or self.z3_tasks_service_account
        return self.z3_tasks_service_account

    def topic_id(self, topic: str) -> str:
        return f"{self.z3_topic_prefix}{topic}".replace(".", "-")

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Every secret setting (a ``SecretStr`` field, optional or not), found by its type."""
        return tuple(name for name, field in cls.model_fields.items()
                     if field.annotation is SecretStr or SecretStr in typing.get_args(field.annotation))

    def _env_name(self, name: str) -> str:
        return type(self).model_fields[name].alias or name.upper()

    def _secret_problem(self, name: str) -> str | None:
        """Why a secret's value cannot run a deployment (None when it can). Never the value."""
        value = getattr(self, name)
        if value is None:
            return f"{self._env_name(name)} is missing"
        plain = value.get_secret_value().strip()
        default = type(self).model_fields[name].default
        env_name = self._env_name(name)
        if not plain:
            return f"{env_name} is missing"
        if (isinstance(default, SecretStr) and plain == default.get_secret_value()) or any(
                marker in plain.lower() for marker in PLACEHOLDER_MARKERS):
            return f"{env_name} is a placeholder"
        minimum = MIN_OWN_SECRET_LENGTH if name.startswith("z3_") else MIN_SECRET_LENGTH
        if len(plain) < minimum:
            return f"{env_name} is shorter than {minimum} characters"
        return None

    def _required_secrets(self) -> tuple[str, ...]:
        if not self.z3_function_name:
            return REQUIRED_SECRETS
        optional = {name for name in self.secret_fields() if type(self).model_fields[name].default is None}
        return tuple(name for name in FUNCTION_SECRETS[self.z3_function_name] if name not in optional)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> "Settings":
        if self.backend == "local" or self.emulated:
            if self.z3_function_name:
                mode = "Z3_BACKEND=local" if self.backend == "local" else "FIRESTORE_EMULATOR_HOST"
                raise ConfigurationError(
                    f"Z3 OS refuses to start: K_SERVICE is set (running on Cloud Functions) but {mode} "
                    "selects development mode, which accepts development secrets. Unset it and set "
                    "GOOGLE_CLOUD_PROJECT.")
            return self
        problems: list[str] = []
        if not self.google_cloud_project:
            problems.append("GOOGLE_CLOUD_PROJECT is not set")
        if not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be an https:// URL")
        if self.z3_function_name and self.z3_function_name not in FUNCTION_SECRETS:
            problems.append(f"K_SERVICE={self.z3_function_name} is not a function FUNCTION_SECRETS "
                            "(shared/config.py) knows")
        else:
            required = self._required_secrets()
            for name in self.secret_fields():
                # A secret this function does not need may be left unset; set, it must be real.
                if name in required or getattr(self, name) != type(self).model_fields[name].default:
                    problem = self._secret_problem(name)
                    if problem:
                        problems.append(problem)
        for name, domains in PROVIDER_DOMAINS.items():
            url = getattr(self, name)
            if url and not _on_domains(url, domains):
                problems.append(f"{self._env_name(name)} must be an https:// URL on "
                                + " or ".join(f"*.{domain}" for domain in domains) + " (or unset)")
        if problems:
            raise ConfigurationError(
                "Z3 OS refuses to start on the gcp backend: " + "; ".join(problems)
                + ". Set them (Secret Manager in production) or run with Z3_BACKEND=local."
            )
        return self

    def secret(self, name: str) -> str | None:
        """The plain value of a secret setting, for the one place that needs it (None for an
        optional secret that is not set). Outside local mode a placeholder is never handed out,
        so a secret a function was not given fails loudly instead of falling back to a
        development value."""
        value = getattr(self, name)
        if value is None:
            return None
        if not (self.backend == "local" or self.emulated):
            problem = self._secret_problem(name)
            if problem:
                raise ConfigurationError(f"{problem} (this function was started without it)")
        return value.get_secret_value()


def _on_domains(url: str, domains: tuple[str, ...]) -> bool:
    """``url`` is https on one of ``domains`` or a subdomain, with no user info."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" or parts.username or parts.password:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in domains)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and tools that change the environment)."""
    get_settings.cache_clear()
