variable "project" {
  type        = string
  description = "Google Cloud project id"
}

variable "region" {
  type    = string
  default = "us-central1"
}

variable "domain" {
  type        = string
  description = "Host name of the load balancer (managed certificate); PUBLIC_BASE_URL is https://<domain>"
}

variable "source_dir" {
  type        = string
  description = "Directory holding the content-addressed zips from scripts/package"
}

variable "alert_email" {
  type        = string
  description = "Where alert policies send their notifications"
}

# Optional secrets are mounted only once the operator has added a version (mounting a secret
# without one fails the deployment). Settings treats them as optional: unset is allowed.
variable "optional_secrets" {
  type = object({
    twilio_webhook_shared_key = optional(bool, false) # a Twilio Webhooks Setting with retries exists
    retell_webhook_key        = optional(bool, false) # the webhook badge is on another key than RETELL_API_KEY
  })
  default = {}
}

variable "rate_limits" {
  description = "Cloud Armor per-IP limits (requests per minute) before a client gets 429"
  type = object({
    sign_in  = optional(number, 20)   # app sign-in, per client IP
    webhooks = optional(number, 1200) # provider webhooks: Twilio and Retell send from few addresses
    default  = optional(number, 600)
  })
  default = {}
}

variable "blob_retention_days" {
  type        = number
  default     = 730
  description = "Lifecycle backstop of the data bucket: no tenant setting keeps a recording longer; the retention sweep is the rule"
}

# One entry per deployed function (folder functions/<name>, entry point <name>). Adding a
# function is one entry here; tests/deploy/test_terraform_consistency.py fails until it exists.
#   kind      http (called by providers / people, through the load balancer), task (Cloud Tasks
#             target), event (Pub/Sub push subscriber of `topic`), scheduled (Cloud Scheduler)
#   secrets   the Settings fields it reads: exactly FUNCTION_SECRETS[name] in shared/config.py
#   enqueues  creates Cloud Tasks (cloudtasks.enqueuer on the queue, actAs the tasks invoker)
#   publishes topics it publishes to (pubsub.publisher on those topics)
#             enqueues/publishes/blobs/kms are what the function's imports can reach (the
#             consistency test walks them): generous by design, never one too few
#   blobs     reads/writes the data bucket; kms: uses the envelope-encryption key
#   armor     the Cloud Armor rate-limit class of its path: webhooks, sign_in or default
#   continues a scheduled function that queues its own continuation tasks: the tasks invoker
#             may call it too (shared.worker handle_worker(invoker=("scheduler", "tasks")))
variable "functions" {
  type = map(object({
    kind          = string
    topic         = optional(string)
    schedule      = optional(string)
    secrets       = optional(list(string), [])
    enqueues      = optional(bool, false)
    publishes     = optional(list(string), [])
    blobs         = optional(bool, false)
    kms           = optional(bool, false)
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "1")
    timeout       = optional(number, 60)
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
    concurrency   = optional(number, 10)
    armor         = optional(string, "webhooks")
    continues     = optional(bool, false)
  }))
  default = {
    # Twilio waits 15 s and Retell 10 s: the two functions on a live call's path keep one warm.
    voice_answer          = { kind = "http", memory = "1Gi", min_instances = 1, secrets = ["twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"] }
    voice_ivr             = { kind = "http", secrets = ["twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"], enqueues = true, publishes = ["call.completed"] }
    voice_status          = { kind = "http", secrets = ["twilio_auth_token", "twilio_webhook_shared_key", "retell_api_key"], enqueues = true, publishes = ["call.completed"] }
    recording_ingest      = { kind = "task", timeout = 300, secrets = ["twilio_auth_token"], blobs = true }
    privacy_jobs          = { kind = "task", timeout = 540, memory = "1Gi", secrets = ["retell_api_key", "twilio_auth_token", "stripe_secret_key", "intuit_client_secret", "google_client_secret"], blobs = true, enqueues = true, kms = true }
    retention_sweep       = { kind = "scheduled", schedule = "17 3 * * *", timeout = 540, memory = "1Gi", blobs = true, enqueues = true, continues = true }
    recording_sweep       = { kind = "scheduled", schedule = "*/30 * * * *", timeout = 300, secrets = ["twilio_auth_token"], enqueues = true }
    retell_webhook        = { kind = "http", secrets = ["retell_api_key", "retell_webhook_key", "twilio_auth_token", "google_client_secret"], enqueues = true, publishes = ["call.completed"], kms = true }
    retell_tools          = { kind = "http", min_instances = 1, secrets = ["retell_api_key", "retell_webhook_key", "twilio_auth_token", "google_client_secret"], enqueues = true, publishes = ["call.completed"], kms = true }
    retell_recording_copy = { kind = "task", timeout = 300, secrets = ["retell_api_key", "twilio_auth_token"], blobs = true, enqueues = true, publishes = ["call.completed"] }
    call_completed        = { kind = "event", topic = "call.completed", enqueues = true, publishes = ["call.completed"] }
    call_finalize         = { kind = "task", secrets = ["retell_api_key"], enqueues = true, publishes = ["call.completed"] }
    sms_inbound           = { kind = "http", secrets = ["twilio_auth_token", "twilio_webhook_shared_key"], enqueues = true }
    sms_status            = { kind = "http", secrets = ["twilio_auth_token", "twilio_webhook_shared_key"] }
    notify                = { kind = "task", secrets = ["resend_api_key", "z3_session_secret"], enqueues = true }
    crm_push              = { kind = "task", enqueues = true, kms = true }
    email_events          = { kind = "http", secrets = ["resend_webhook_secret", "resend_api_key"] }
    email_unsubscribe     = { kind = "http", secrets = ["z3_session_secret"], armor = "default" }
    app                   = { kind = "http", memory = "1Gi", min_instances = 1, armor = "sign_in", secrets = ["stripe_secret_key", "z3_api_token_pepper", "z3_media_signing_key", "twilio_auth_token", "retell_api_key", "google_client_secret", "intuit_client_secret"], enqueues = true, blobs = true, kms = true }
    stripe_events         = { kind = "http", secrets = ["stripe_webhook_secret", "stripe_secret_key"], enqueues = true }
    billing_usage         = { kind = "event", topic = "call.completed", secrets = ["stripe_secret_key"], publishes = ["call.completed"] }
    billing_grace         = { kind = "task", secrets = ["stripe_secret_key"], enqueues = true }
    quickbooks_sync       = { kind = "task", secrets = ["intuit_client_secret"], enqueues = true, kms = true }
    quickbooks_webhook    = { kind = "http", secrets = ["intuit_verifier_token", "intuit_client_secret"], enqueues = true, kms = true }
    oauth_callback        = { kind = "http", secrets = ["intuit_client_secret", "google_client_secret"], armor = "default", enqueues = true, kms = true }
  }
}
