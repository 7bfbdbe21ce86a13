terraform {
  required_version = ">= 1.6"
  required_providers {
    google      = { source = "hashicorp/google", version = "~> 6.20" }
    google-beta = { source = "hashicorp/google-beta", version = "~> 6.20" }
  }
  backend "gcs" {} # bucket/prefix passed at init: -backend-config=bucket=<state bucket> -backend-config=prefix=z3
}

provider "google" {
  project = var.project
  region  = var.region
}

provider "google-beta" {
  project = var.project
  region  = var.region
}
