# Storage of record: Firestore (native) with its composite indexes and TTL, the KMS keys, the
# CMEK data bucket and the source bucket.
resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = "nam5"
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  depends_on                        = [google_project_service.api]
}

# Composite indexes: terraform/firestore.indexes.json (the Firebase CLI's format) is the one
# source of truth; tests/deploy checks every query the test suite runs against it.
locals {
  firestore_indexes = jsondecode(file("${path.module}/firestore.indexes.json")).indexes
}

resource "google_firestore_index" "composite" {
  for_each    = { for index in local.firestore_indexes : join("/", concat([index.collectionGroup], [for f in index.fields : "${f.fieldPath}:${lookup(f, "order", lookup(f, "arrayConfig", ""))}"])) => index }
  database    = google_firestore_database.default.name
  collection  = each.value.collectionGroup
  query_scope = lookup(each.value, "queryScope", "COLLECTION")
  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "arrayConfig", null)
    }
  }
}

resource "google_firestore_field" "ttl" {
  # collection ids (TTL applies to every collection of that id, at any depth)
  for_each = toset(["webhook_events", "messages", "emails", "calls", "call_facts", "consent", "events", "sources",
  "sms_sends", "email_suppressions", "email_messages", "audit", "exports", "retention_runs", "cursors"])
  database   = google_firestore_database.default.name
  collection = each.key
  field      = "expire_at"
  ttl_config {} # the retention sweep is the rule; TTL is the backstop
}

resource "google_kms_key_ring" "z3" {
  name       = "z3"
  location   = var.region
  depends_on = [google_project_service.api]
}

# Every key rotates every 90 days; destroying one would make its data unreadable.
resource "google_kms_crypto_key" "data" { # envelope encryption of OAuth tokens and 2FA secrets
  name            = "data"
  key_ring        = google_kms_key_ring.z3.id
  rotation_period = "7776000s"
  lifecycle { prevent_destroy = true }
}

resource "google_kms_crypto_key" "storage" { # CMEK of the data bucket
  name            = "storage"
  key_ring        = google_kms_key_ring.z3.id
  rotation_period = "7776000s"
  lifecycle { prevent_destroy = true }
}

resource "google_kms_crypto_key" "secrets" { # CMEK of Secret Manager
  name            = "secrets"
  key_ring        = google_kms_key_ring.z3.id
  rotation_period = "7776000s"
  lifecycle { prevent_destroy = true }
}

resource "google_kms_crypto_key" "pubsub" { # CMEK of the topics (events carry call ids and numbers)
  name            = "pubsub"
  key_ring        = google_kms_key_ring.z3.id
  rotation_period = "7776000s"
  lifecycle { prevent_destroy = true }
}

data "google_storage_project_service_account" "gcs" {}

resource "google_kms_crypto_key_iam_member" "gcs_cmek" {
  crypto_key_id = google_kms_crypto_key.storage.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_kms_crypto_key_iam_member" "secrets_cmek" {
  crypto_key_id = google_kms_crypto_key.secrets.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_project_service_identity.agent["secretmanager.googleapis.com"].email}"
}

resource "google_kms_crypto_key_iam_member" "pubsub_cmek" {
  crypto_key_id = google_kms_crypto_key.pubsub.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_project_service_identity.agent["pubsub.googleapis.com"].email}"
}

# Recordings and voicemails. Versioning stays off: a deleted recording must be gone (privacy
# requests, tenant retention), not kept as a noncurrent version.
resource "google_storage_bucket" "data" {
  # checkov:skip=CKV_GCP_78:versioning off on purpose: a deleted recording (privacy request, tenant retention) must be gone, not kept as a noncurrent version
  name                        = "${var.project}-z3-data"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  encryption { default_kms_key_name = google_kms_crypto_key.storage.id }
  versioning { enabled = false }
  logging { log_bucket = google_storage_bucket.access_logs.name }
  lifecycle_rule { # the retention backstop: the retention sweep deletes per tenant setting first
    condition { age = var.blob_retention_days }
    action { type = "Delete" }
  }
  lifecycle_rule { # export archives (the only .zip objects) live 7 days: the sweep deletes them, this is the backstop
    condition {
      age            = 8
      matches_suffix = [".zip"]
    }
    action { type = "Delete" }
  }
  lifecycle_rule {
    condition { age = 1 }
    action { type = "AbortIncompleteMultipartUpload" }
  }
  depends_on = [google_kms_crypto_key_iam_member.gcs_cmek]
}

# Function sources (content-addressed zips): old ones are kept 90 days for rollbacks.
resource "google_storage_bucket" "sources" {
  name                        = "${var.project}-z3-sources"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  encryption { default_kms_key_name = google_kms_crypto_key.storage.id }
  versioning { enabled = true }
  logging { log_bucket = google_storage_bucket.access_logs.name }
  lifecycle_rule {
    condition { age = 90 }
    action { type = "Delete" }
  }
  depends_on = [google_kms_crypto_key_iam_member.gcs_cmek]
}

# Storage access logs (usage logs: kept 2 years).
resource "google_storage_bucket" "access_logs" {
  # checkov:skip=CKV_GCP_62:this is the access-log bucket itself; logging its own access would log forever into itself
  # checkov:skip=CKV_GCP_78:logs are written once and deleted after 2 years by the lifecycle rule; versions would keep them past the stated retention
  name                        = "${var.project}-z3-access-logs"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  encryption { default_kms_key_name = google_kms_crypto_key.storage.id }
  versioning { enabled = false }
  lifecycle_rule {
    condition { age = 730 }
    action { type = "Delete" }
  }
  depends_on = [google_kms_crypto_key_iam_member.gcs_cmek]
}

# Cloud Storage writes usage logs as this group.
resource "google_storage_bucket_iam_member" "access_log_writer" {
  bucket = google_storage_bucket.access_logs.name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}
