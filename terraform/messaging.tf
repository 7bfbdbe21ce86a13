# Pub/Sub topics (shared/events.py SUBSCRIPTIONS: topic -> subscribers, the entries of kind
# "event"), one push subscription per subscriber named as shared/adapters/gcp/provision.py names
# them for the emulators, dead-letter topics, and the Cloud Tasks queue.
#
# Push subscriptions rather than Eventarc triggers: an Eventarc trigger creates its own
# subscription, whose dead-letter topic and retry policy Terraform cannot set. A push
# subscription delivers the same body (functions-framework turns a raw Pub/Sub push into the
# messagePublished CloudEvent the subscriber reads), with the trigger identity's OIDC token.
locals {
  topics      = toset(concat([for f in values(var.functions) : f.topic if f.topic != null], flatten([for f in values(var.functions) : f.publishes])))
  topic_id    = { for t in local.topics : t => "z3-${replace(t, ".", "-")}" } # Settings.topic_id
  subscribers = { for k, v in var.functions : k => v if v.kind == "event" }
  pubsub_sa   = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "topic" {
  for_each     = local.topics
  name         = local.topic_id[each.key]
  kms_key_name = google_kms_crypto_key.pubsub.id
  depends_on   = [google_kms_crypto_key_iam_member.pubsub_cmek]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each                   = local.subscribers
  name                       = "${local.topic_id[each.value.topic]}--${each.key}--dead"
  kms_key_name               = google_kms_crypto_key.pubsub.id
  message_retention_duration = "604800s" # 7 days to look at and replay what failed
  depends_on                 = [google_kms_crypto_key_iam_member.pubsub_cmek]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.subscribers
  name                       = "${google_pubsub_topic.dead_letter[each.key].name}--hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  expiration_policy { ttl = "" } # never expires
}

# The trigger identity: Pub/Sub pushes with its OIDC token (audience: the function's Cloud Run
# URL); it holds run.invoker on the subscribers only (functions.tf).
resource "google_service_account" "events_invoker" {
  account_id   = "z3-events-invoker"
  display_name = "Pub/Sub push identity of the event subscribers"
}

resource "google_pubsub_subscription" "push" {
  for_each             = local.subscribers
  name                 = "${local.topic_id[each.value.topic]}--${each.key}"
  topic                = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds = 60 # shared/adapters/gcp/provision.py ACK_DEADLINE_SECONDS
  push_config {
    push_endpoint = local.run_url[each.key]
    oidc_token {
      service_account_email = google_service_account.events_invoker.email
      audience              = local.run_url[each.key]
    }
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = 20
  }
  expiration_policy { ttl = "" }
}

# Pub/Sub's service agent forwards undeliverable messages: publisher on the dead-letter topic,
# subscriber on the source subscription; it mints the push identity's tokens.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.subscribers
  topic    = google_pubsub_topic.dead_letter[each.key].id
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_sa
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.subscribers
  subscription = google_pubsub_subscription.push[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_sa
}

resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.events_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_sa
}

# Cloud Tasks: one queue; tasks POST to the target's Cloud Run URL with the tasks invoker's
# OIDC token (shared/adapters/gcp/tasks.py).
resource "google_cloud_tasks_queue" "default" {
  name     = "z3-default"
  location = var.region
  rate_limits {
    max_dispatches_per_second = 50
    max_concurrent_dispatches = 100
  }
  retry_config {
    max_attempts       = 50
    max_retry_duration = "86400s" # a day; recording copies must land long before Twilio's purge
    min_backoff        = "1s"
    max_backoff        = "600s"
    max_doublings      = 10
  }
  stackdriver_logging_config {
    sampling_ratio = 1.0
  }
}

resource "google_service_account" "tasks_invoker" {
  account_id   = "z3-tasks-invoker"
  display_name = "Cloud Tasks OIDC identity for task targets"
}

resource "google_service_account" "scheduler_invoker" {
  account_id   = "z3-scheduler-invoker"
  display_name = "Cloud Scheduler OIDC identity for scheduled functions"
}

# Scheduled functions: Cloud Scheduler posts to the function's Cloud Run URL (the OIDC audience
# defaults to it), on each entry's cron schedule (UTC).
resource "google_cloud_scheduler_job" "scheduled" {
  for_each         = { for k, v in var.functions : k => v if v.kind == "scheduled" }
  name             = "z3-${local.service_name[each.key]}"
  region           = var.region
  schedule         = each.value.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "${each.value.timeout + 30}s"
  http_target {
    http_method = "POST"
    uri         = local.run_url[each.key]
    oidc_token {
      service_account_email = google_service_account.scheduler_invoker.email
      audience              = local.run_url[each.key]
    }
  }
  retry_config {
    retry_count = 3
  }
  depends_on = [google_project_service.api]
}
