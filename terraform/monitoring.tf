# Logs kept as the privacy policy states (usage and access logs: 2 years), log-based metrics
# and the alert policies an operator acts on.
resource "google_logging_project_bucket_config" "access" {
  project        = var.project
  location       = "global"
  bucket_id      = "z3-access-logs"
  retention_days = 730
  description    = "Usage and access logs (load balancer and Cloud Run requests): 2 years"
}

resource "google_logging_project_sink" "access" {
  name                   = "z3-access-logs"
  destination            = "logging.googleapis.com/${google_logging_project_bucket_config.access.id}"
  filter                 = "resource.type=\"http_load_balancer\" OR log_id(\"run.googleapis.com/requests\") OR logName:\"cloudaudit.googleapis.com\""
  unique_writer_identity = true
}

resource "google_monitoring_notification_channel" "email" {
  display_name = "Z3 operators"
  type         = "email"
  labels       = { email_address = var.alert_email }
}

# Our own log lines (shared/http.py, shared/email/mailer.py), by function.
resource "google_logging_metric" "signature_failures" {
  name   = "z3/signature_failures"
  filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"rejected request: bad signature\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "function"
      value_type = "STRING"
    }
  }
  label_extractors = { function = "EXTRACT(resource.labels.service_name)" }
}

resource "google_logging_metric" "email_stopped" {
  name   = "z3/email_sending_stopped"
  filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.alert=(\"quota\" OR \"domain\")"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_logging_metric" "http_5xx" {
  name   = "z3/http_5xx"
  filter = "log_id(\"run.googleapis.com/requests\") AND httpRequest.status>=500"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "function"
      value_type = "STRING"
    }
  }
  label_extractors = { function = "EXTRACT(resource.labels.service_name)" }
}

# Security: IAM policy changes and secret version access by anything but a function's account.
resource "google_logging_metric" "security_events" {
  name   = "z3/security_events"
  filter = "logName:\"cloudaudit.googleapis.com%2Factivity\" AND (protoPayload.methodName:\"SetIamPolicy\" OR protoPayload.methodName:\"DisableCryptoKeyVersion\" OR protoPayload.methodName:\"DestroyCryptoKeyVersion\" OR protoPayload.methodName:\"AddSecretVersion\")"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

locals {
  alerts = {
    http_5xx = {
      name      = "5xx answers per function (> 5 in 5 min)"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.http_5xx.name}\" AND resource.type=\"cloud_run_revision\""
      threshold = 5
      by        = ["metric.label.function"]
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
    }
    signature_failures = {
      name      = "signature failure spike (> 20 in 5 min): a wrong secret or PUBLIC_BASE_URL, or forgery"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.signature_failures.name}\" AND resource.type=\"cloud_run_revision\""
      threshold = 20
      by        = ["metric.label.function"]
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
    }
    email_stopped = {
      name      = "email sending stopped (Resend quota or sender domain)"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.email_stopped.name}\" AND resource.type=\"cloud_run_revision\""
      threshold = 0
      by        = []
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
    }
    security_events = {
      name      = "security: IAM, key or secret changes"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.security_events.name}\""
      threshold = 0
      by        = []
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
    }
    dead_letters = {
      name      = "dead-lettered events waiting"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=ends_with(\"--dead--hold\")"
      threshold = 0
      by        = ["resource.label.subscription_id"]
      aligner   = "ALIGN_MAX"
      reducer   = "REDUCE_MAX"
    }
    task_delay = {
      name      = "Cloud Tasks attempts late (p99 delay > 5 min)"
      filter    = "metric.type=\"cloudtasks.googleapis.com/queue/task_attempt_delays\" AND resource.type=\"cloud_tasks_queue\""
      threshold = 300000 # milliseconds
      by        = ["resource.label.queue_id"]
      aligner   = "ALIGN_PERCENTILE_99"
      reducer   = "REDUCE_MAX"
    }
  }
}

resource "google_monitoring_alert_policy" "alert" {
  for_each              = local.alerts
  display_name          = "Z3: ${each.value.name}"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = each.value.name
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = each.value.aligner
        cross_series_reducer = length(each.value.by) > 0 ? each.value.reducer : null
        group_by_fields      = each.value.by
      }
    }
  }
}

output "load_balancer_ip" {
  value       = google_compute_global_address.lb.address
  description = "Point the DNS A record of var.domain here"
}

output "public_base_url" {
  value = local.public_base_url
}
