# Storage of record: Firestore (native), the blob bucket with CMEK, the KMS key for envelope
# encryption of OAuth tokens and 2FA secrets.
resource "google_firestore_database" "default" {
  name        = "(default)"
  location_id = "nam5"
  type        = "FIRESTORE_NATIVE"
}

resource "google_firestore_field" "ttl" {
  # collection ids (TTL applies to every collection of that id, at any depth)
  for_each = toset(["webhook_events", "messages", "emails", "calls", "call_facts", "consent", "events", "sources",
  "sms_sends", "email_suppressions", "email_messages"])
  database   = google_firestore_database.default.name
  collection = each.key
  field      = "expire_at"
  ttl_config {} # the retention sweep is the rule; TTL is the backstop
}

resource "google_kms_key_ring" "z3" {
  name     = "z3"
  location = var.region
}

resource "google_kms_crypto_key" "data" {
  name            = "data"
  key_ring        = google_kms_key_ring.z3.id
  rotation_period = "7776000s" # 90 days
}

resource "google_kms_crypto_key" "storage" {
  name     = "storage"
  key_ring = google_kms_key_ring.z3.id
}

data "google_storage_project_service_account" "gcs" {}

resource "google_kms_crypto_key_iam_member" "gcs_cmek" {
  crypto_key_id = google_kms_crypto_key.storage.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_bucket" "data" {
  name                        = "${var.project}-z3-data"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  encryption { default_kms_key_name = google_kms_crypto_key.storage.id }
  depends_on = [google_kms_crypto_key_iam_member.gcs_cmek]
}

resource "google_storage_bucket" "sources" {
  name                        = "${var.project}-z3-sources"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
}
