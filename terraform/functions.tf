# One Cloud Function (gen2) per entry of var.functions, each with its own service account.
data "google_project" "this" {}

# IAM is granted on the resource (topic, queue, bucket, key, function), never project-wide, and
# never to the default compute account.
resource "google_service_account" "fn" {
  for_each     = var.functions
  account_id   = substr("z3-${replace(each.key, "_", "-")}", 0, 30)
  display_name = "Z3 function ${each.key}"
}

resource "google_storage_bucket_object" "source" {
  for_each = var.functions
  # scripts/package names each zip <function>-<sha256 prefix>.zip: a code change is a new object
  name   = basename(one(fileset(var.source_dir, "${each.key}-*.zip")))
  bucket = google_storage_bucket.sources.name
  source = "${var.source_dir}/${one(fileset(var.source_dir, "${each.key}-*.zip"))}"
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = var.functions
  name     = replace(each.key, "_", "-")
  location = var.region
  build_config {
    runtime     = "python312"
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }
  service_config {
    service_account_email = google_service_account.fn[each.key].email
    available_memory      = each.value.memory
    timeout_seconds       = each.value.timeout
    environment_variables = {
      Z3_BACKEND               = "gcp"
      GOOGLE_CLOUD_PROJECT     = var.project
      Z3_REGION                = var.region
      PUBLIC_BASE_URL          = var.public_base_url
      Z3_BUCKET                = google_storage_bucket.data.name
      Z3_TASKS_QUEUE           = google_cloud_tasks_queue.default.name
      Z3_TASKS_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      Z3_SCHEDULER_INVOKER     = google_service_account.tasks_invoker.email
      # the Eventarc trigger below runs as the function's own account
      Z3_EVENTS_INVOKER = google_service_account.fn[each.key].email
      # the audience Eventarc and Scheduler put in their tokens (the function's Cloud Run URL)
      Z3_FUNCTION_RUN_URL = "https://${replace(each.key, "_", "-")}-${data.google_project.this.number}.${var.region}.run.app"
      Z3_KMS_KEY               = google_kms_crypto_key.data.id
    }
    # Secrets (TWILIO_AUTH_TOKEN, ...) are mounted from Secret Manager per function in secrets.tf
  }
  dynamic "event_trigger" {
    for_each = each.value.kind == "event" ? [1] : []
    content {
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.topic[each.value.topic].id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.fn[each.key].email
    }
  }
}

# Webhooks and the dashboard are public (they verify signatures / sessions themselves);
# task targets only accept the tasks invoker's OIDC token.
resource "google_cloud_run_service_iam_member" "public" {
  for_each = { for k, v in var.functions : k => v if v.public }
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The Eventarc trigger of a subscriber pushes with the function's own account.
resource "google_cloud_run_service_iam_member" "events" {
  for_each = { for k, v in var.functions : k => v if v.kind == "event" }
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Scheduled functions are invoked by Cloud Scheduler with the same identity.
resource "google_cloud_run_service_iam_member" "tasks" {
  for_each = { for k, v in var.functions : k => v if contains(["task", "scheduled"], v.kind) }
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.tasks_invoker.email}"
}

# Scheduled functions: Cloud Scheduler posts to them with the tasks invoker's OIDC token (the same
# identity the task targets accept), on each entry's cron schedule (UTC).
resource "google_cloud_scheduler_job" "scheduled" {
  for_each  = { for k, v in var.functions : k => v if v.kind == "scheduled" }
  name      = "z3-${replace(each.key, "_", "-")}"
  region    = var.region
  schedule  = each.value.schedule
  time_zone = "Etc/UTC"
  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.tasks_invoker.email
    }
  }
  retry_config {
    retry_count = 3
  }
}
