# Pub/Sub topics (mirrors shared/events.py SUBSCRIPTIONS) and the Cloud Tasks queue.
locals {
  topics = toset([for f in values(var.functions) : f.topic if f.topic != null])
}

resource "google_pubsub_topic" "topic" {
  for_each = local.topics
  name     = "z3-${replace(each.key, ".", "-")}"
}

resource "google_cloud_tasks_queue" "default" {
  name     = "z3-default"
  location = var.region
  retry_config {
    max_attempts  = 50
    min_backoff   = "1s"
    max_backoff   = "600s"
    max_doublings = 10
  }
}

resource "google_service_account" "tasks_invoker" {
  account_id   = "z3-tasks-invoker"
  display_name = "Cloud Tasks OIDC identity for task targets"
}
