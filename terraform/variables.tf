variable "project" { type = string }
variable "region" {
  type    = string
  default = "us-central1"
}
variable "public_base_url" {
  type        = string
  description = "https URL of the load balancer that routes /<function_name> to each function"
}
variable "source_dir" {
  type        = string
  description = "Directory holding the content-addressed zips from scripts/package"
}

# One entry per deployed function. kind: http (providers / people), task (Cloud Tasks target,
# OIDC-only), event (Pub/Sub subscriber via Eventarc), scheduled (Cloud Scheduler with OIDC).
variable "functions" {
  type = map(object({
    kind     = string
    topic    = optional(string)
    schedule = optional(string)
    memory   = optional(string, "512Mi")
    timeout  = optional(number, 60)
    public   = optional(bool, false)
  }))
  default = {
    voice_answer          = { kind = "http", public = true, memory = "1Gi" } # keep one instance warm (Twilio waits 15 s)
    voice_ivr             = { kind = "http", public = true }
    voice_status          = { kind = "http", public = true }
    recording_ingest      = { kind = "task", timeout = 300 }
    recording_sweep       = { kind = "scheduled", schedule = "*/30 * * * *", timeout = 300 }
    retell_webhook        = { kind = "http", public = true }
    retell_tools          = { kind = "http", public = true }
    retell_recording_copy = { kind = "task", timeout = 300 }
    call_completed        = { kind = "event", topic = "call.completed" }
    call_finalize         = { kind = "task" }
    sms_inbound           = { kind = "http", public = true }
    sms_status            = { kind = "http", public = true }
    notify                = { kind = "task" }
    email_events          = { kind = "http", public = true }
    email_unsubscribe     = { kind = "http", public = true }
  }
}
