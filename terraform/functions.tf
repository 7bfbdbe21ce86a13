# One Cloud Function (gen2) per entry of var.functions, each with its own service account,
# its own secrets and the data-plane IAM of its entry (iam.tf). Public (http) functions are
# reachable only through the load balancer (lb.tf); workers only by their caller's identity.
data "google_project" "this" {}

locals {
  public_base_url = "https://${var.domain}"
  service_name    = { for k, v in var.functions : k => replace(k, "_", "-") }
  # Cloud Run's deterministic URL of each function's service. Workers are called on it (never
  # through the load balancer): Cloud Run IAM accepts a token whose audience is this URL, so the
  # task queue, Pub/Sub push and Cloud Scheduler all use it as URL and audience
  # (Z3_WORKER_URL_TEMPLATE below, Settings.worker_url in shared/config.py).
  run_url_template = "https://{service}-${data.google_project.this.number}.${var.region}.run.app"
  run_url          = { for k, v in var.functions : k => replace(local.run_url_template, "{service}", local.service_name[k]) }
  public           = { for k, v in var.functions : k => v if v.kind == "http" }
  workers          = { for k, v in var.functions : k => v if v.kind != "http" }
  # the one identity that calls each kind of worker (and that the worker's code accepts)
  caller_of = {
    task      = google_service_account.tasks_invoker.email
    event     = google_service_account.events_invoker.email
    scheduled = google_service_account.scheduler_invoker.email
  }
}

resource "google_service_account" "fn" {
  for_each     = var.functions
  account_id   = substr("z3-${local.service_name[each.key]}", 0, 30)
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
  name     = local.service_name[each.key]
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
    service_account_email            = google_service_account.fn[each.key].email
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    all_traffic_on_latest_revision   = true
    # http functions: only the load balancer (and Google-internal callers); workers: only
    # Google-internal callers of this project (Cloud Tasks, Pub/Sub push, Cloud Scheduler).
    ingress_settings = each.value.kind == "http" ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    environment_variables = {
      Z3_BACKEND               = "gcp"
      GOOGLE_CLOUD_PROJECT     = var.project
      Z3_REGION                = var.region
      PUBLIC_BASE_URL          = local.public_base_url
      Z3_BUCKET                = google_storage_bucket.data.name
      Z3_TASKS_QUEUE           = google_cloud_tasks_queue.default.name
      Z3_TASKS_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      Z3_SCHEDULER_INVOKER     = google_service_account.scheduler_invoker.email
      Z3_EVENTS_INVOKER        = google_service_account.events_invoker.email
      Z3_WORKER_URL_TEMPLATE   = local.run_url_template
      Z3_FUNCTION_RUN_URL      = local.run_url[each.key]
      Z3_KMS_KEY               = google_kms_crypto_key.data.id
    }
    # Exactly the secrets this function's code reads (FUNCTION_SECRETS in shared/config.py);
    # optional ones only once var.optional_secrets says they have a version.
    dynamic "secret_environment_variables" {
      for_each = toset([for s in each.value.secrets : s if lookup(var.optional_secrets, s, true)])
      content {
        key        = upper(secret_environment_variables.value)
        project_id = var.project
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }
  depends_on = [google_secret_manager_secret_iam_member.accessor, google_project_service.api]
}

# Public functions: anyone may reach them, but only through the load balancer (ingress above);
# they verify provider signatures / sessions themselves.
resource "google_cloud_run_service_iam_member" "public" {
  # checkov:skip=CKV_GCP_102:providers (Twilio, Retell, Resend) and people call these without a Google identity; ingress ALLOW_INTERNAL_AND_GCLB admits only the load balancer, and each function verifies its provider signature or session (403 otherwise)
  for_each = local.public
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Workers: run.invoker for their one caller's identity only.
resource "google_cloud_run_service_iam_member" "worker" {
  for_each = local.workers
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${local.caller_of[each.value.kind]}"
}

# A scheduled function that continues its own run through Cloud Tasks (retention_sweep).
resource "google_cloud_run_service_iam_member" "continuation" {
  for_each = { for k, v in local.workers : k => v if v.kind == "scheduled" && v.continues }
  service  = google_cloudfunctions2_function.fn[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.tasks_invoker.email}"
}
