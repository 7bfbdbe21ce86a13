# The APIs the deployment uses.
resource "google_project_service" "api" {
  for_each = toset([
    "artifactregistry.googleapis.com", # gen2 builds store their images here
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "compute.googleapis.com", # load balancer, Cloud Armor
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # signBlob: the app's V4 signed URLs for recordings
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
  service            = each.key
  disable_on_destroy = false
}

# Google's service agents that encrypt with our keys (created on first use otherwise).
resource "google_project_service_identity" "agent" {
  provider = google-beta
  for_each = toset(["secretmanager.googleapis.com", "pubsub.googleapis.com"])
  service  = each.key
}
