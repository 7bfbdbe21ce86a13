"""Retention: what is past its time (:mod:`shared.retention.policy`) and the sweep that deletes it
(:mod:`shared.retention.sweep`)."""
