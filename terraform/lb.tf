# The external HTTPS load balancer behind PUBLIC_BASE_URL: /<function> and /<function>/* of every
# public (http) function go to that function's serverless NEG; the path reaches the function
# unchanged, so the URL a provider signs is exactly Settings.function_url(<function>). Anything
# else answers 404 at the load balancer. Workers are never routed here.
locals {
  armor_paths = { for class in ["webhooks", "sign_in", "default"] : class => [for k, v in local.public : k if v.armor == class] }
}

resource "google_compute_global_address" "lb" {
  name       = "z3-lb"
  depends_on = [google_project_service.api]
}

resource "google_compute_managed_ssl_certificate" "lb" {
  name = "z3-lb"
  managed { domains = [var.domain] }
}

resource "google_compute_ssl_policy" "lb" {
  name            = "z3-lb"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "fn" {
  for_each              = local.public
  name                  = "z3-${local.service_name[each.key]}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_function { function = google_cloudfunctions2_function.fn[each.key].name }
}

resource "google_compute_backend_service" "fn" {
  for_each              = local.public
  name                  = "z3-${local.service_name[each.key]}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.edge.id
  backend { group = google_compute_region_network_endpoint_group.fn[each.key].id }
  log_config { # the access log (kept 2 years, monitoring.tf)
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "lb" {
  name            = "z3-lb"
  default_service = google_compute_backend_service.fn[keys(local.public)[0]].id
  host_rule {
    hosts        = [var.domain]
    path_matcher = "functions"
  }
  path_matcher {
    name            = "functions"
    default_service = google_compute_backend_service.fn[keys(local.public)[0]].id
    default_route_action { # no function under this path: 404 without reaching any function
      fault_injection_policy {
        abort {
          http_status = 404
          percentage  = 100
        }
      }
    }
    dynamic "path_rule" {
      for_each = local.public
      content {
        paths   = ["/${path_rule.key}", "/${path_rule.key}/*"]
        service = google_compute_backend_service.fn[path_rule.key].id
      }
    }
  }
  default_route_action {
    fault_injection_policy {
      abort {
        http_status = 404
        percentage  = 100
      }
    }
  }
}

resource "google_compute_target_https_proxy" "lb" {
  name             = "z3-lb"
  url_map          = google_compute_url_map.lb.id
  ssl_certificates = [google_compute_managed_ssl_certificate.lb.id]
  ssl_policy       = google_compute_ssl_policy.lb.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "z3-lb-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.lb.id
}

# Plain http only redirects to https.
resource "google_compute_url_map" "redirect" {
  name = "z3-lb-redirect"
  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "z3-lb-redirect"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "z3-lb-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}

# Cloud Armor: per-IP rate limits (429 beyond them), by the armor class of each function's path,
# the app's sign-in path throttled hardest; the Log4j lookup signature blocked everywhere.
resource "google_compute_security_policy" "edge" {
  name = "z3-edge"
  type = "CLOUD_ARMOR"
  rule {
    priority    = 100
    action      = "deny(403)"
    description = "CVE-2021-44228 / CVE-2021-45046 (Log4j lookups)"
    match {
      expr { expression = "evaluatePreconfiguredWaf('cve-canary')" }
    }
  }
  rule {
    priority    = 1000
    action      = "throttle"
    description = "app sign-in: per-IP rate limit"
    match {
      expr { expression = "request.path.matches('^/app/(signin|signup|password/forgot|unlock)')" }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limits.sign_in
        interval_sec = 60
      }
    }
  }
  dynamic "rule" {
    for_each = { for class, paths in local.armor_paths : class => paths if length(paths) > 0 }
    content {
      priority    = { sign_in = 1100, webhooks = 1200, default = 1300 }[rule.key]
      action      = "throttle"
      description = "${rule.key}: per-IP rate limit"
      match {
        expr { expression = "request.path.matches('^/(${join("|", rule.value)})(/|$)')" }
      }
      rate_limit_options {
        conform_action = "allow"
        exceed_action  = "deny(429)"
        enforce_on_key = "IP"
        rate_limit_threshold {
          count        = var.rate_limits[rule.key == "sign_in" ? "sign_in" : rule.key]
          interval_sec = 60
        }
      }
    }
  }
  rule {
    priority    = 2147483647
    action      = "allow"
    description = "default"
    match {
      versioned_expr = "SRC_IPS_V1"
      config { src_ip_ranges = ["*"] }
    }
  }
}
