"""Billing with Stripe: plans and entitlements, the billing record and invoice history, Stripe's
events, usage (billable AI minutes), checkout / portal / overview, dunning notices.

Modules: ``plans`` (the catalogue), ``models`` (stored documents; no card number), ``records``
(paths and reads), ``stripe_sync`` (Stripe objects -> our record), ``events`` (the
``stripe_events`` webhook's service), ``entitlements`` (status -> service, grace, seats),
``notices`` (dunning emails), ``usage`` (the ``billing_usage`` worker), ``services`` (checkout,
portal, overview, sync, deletion).
"""
