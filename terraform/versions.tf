terraform {
  required_version = ">= 1.6"
  required_providers {
    google = { source = "hashicorp/google", version = "~> 6.0" }
  }
  backend "gcs" {} # bucket/prefix passed at init: -backend-config=bucket=<state bucket>
}

provider "google" {
  project = var.project
  region  = var.region
}
