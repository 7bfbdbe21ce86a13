# One Secret Manager secret per secret a function reads (the union of var.functions[*].secrets,
# which the consistency test holds equal to FUNCTION_SECRETS in shared/config.py). The secret id
# is the environment variable's name: `gcloud secrets versions add TWILIO_AUTH_TOKEN ...`.
locals {
  secrets = toset(flatten([for f in values(var.functions) : f.secrets]))
  secret_mounts = { for pair in flatten([
    for fn, f in var.functions : [for s in f.secrets : { fn = fn, secret = s }]
  ]) : "${pair.fn}/${pair.secret}" => pair }
}

resource "google_secret_manager_secret" "secret" {
  for_each  = local.secrets
  secret_id = upper(each.key)
  replication {
    user_managed {
      replicas {
        location = var.region
        customer_managed_encryption { kms_key_name = google_kms_crypto_key.secrets.id }
      }
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.secrets_cmek]
}

# secretAccessor on each secret for the accounts of the functions that read it, and no other.
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each  = local.secret_mounts
  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.fn].email}"
}
