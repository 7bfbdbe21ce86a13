# Data-plane IAM, on the resource, for the functions whose entry says they use it (the
# consistency test derives each flag from the code). Never project-wide, never the default
# compute account.
locals {
  enqueuers  = { for k, v in var.functions : k => v if v.enqueues }
  blob_users = { for k, v in var.functions : k => v if v.blobs }
  kms_users  = { for k, v in var.functions : k => v if v.kms }
  publishers = { for pair in flatten([
    for fn, f in var.functions : [for t in f.publishes : { fn = fn, topic = t }]
  ]) : "${pair.fn}/${pair.topic}" => pair }
}

resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = local.enqueuers
  name     = google_cloud_tasks_queue.default.id
  location = var.region
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# A task carries the tasks invoker's OIDC token: its creator must be allowed to act as it.
resource "google_service_account_iam_member" "enqueuer_act_as" {
  for_each           = local.enqueuers
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publishers
  topic    = google_pubsub_topic.topic[each.value.topic].id
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.fn[each.value.fn].email}"
}

resource "google_storage_bucket_iam_member" "blobs" {
  for_each = local.blob_users
  bucket   = google_storage_bucket.data.name
  role     = "roles/storage.objectUser"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_kms_crypto_key_iam_member" "envelope" {
  for_each      = local.kms_users
  crypto_key_id = google_kms_crypto_key.data.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Firestore has no per-collection IAM: every function reads and writes documents (tenant
# isolation is structural in the code, shared/tenants). datastore.user on the project is the
# narrowest role that allows it.
resource "google_project_iam_member" "firestore" {
  for_each = var.functions
  project  = var.project
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Functions write their JSON logs; Cloud Functions' runtime needs this on its own account.
resource "google_project_iam_member" "log_writer" {
  for_each = var.functions
  project  = var.project
  role     = "roles/logging.logWriter"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# The dashboard's recording player reads the private bucket through V4 signed URLs
# (shared/adapters/gcp/storage.py, shared/web/media.py). On Cloud Run the app's credentials hold
# no key: it signs with IAM signBlob as its own account, which needs this on itself only.
resource "google_service_account_iam_member" "app_signs_urls" {
  service_account_id = google_service_account.fn["app"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.fn["app"].email}"
}
