"""Privacy: legal holds (:mod:`shared.privacy.holds`), the deletion cascade
(:mod:`shared.privacy.erase`) and the provider erasers it calls (:mod:`shared.privacy.erasers`)."""
