"""Suppression list entries, unsubscribe tokens and the never-backwards email statuses."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import Settings
from shared.email import log as email_log
from shared.email import suppression, unsubscribe
from shared.email.suppression import SuppressionReason
from shared.email.unsubscribe import ExpiredToken, InvalidToken, make_token, read_token

NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


# --- suppression -------------------------------------------------------------------------------

def test_suppression_is_keyed_by_a_hash_and_holds_no_address(store):
    suppression.suppress(store, "Dana@Sunrise.example ", SuppressionReason.bounced, NOW, source="re_1")
    doc = store.get(suppression.path("dana@sunrise.example"))
    assert doc is not None and "dana" not in repr(doc).lower() and "sunrise" not in repr(doc).lower()
    assert doc["reason"] == "bounced" and doc["expire_at"] == NOW + dt.timedelta(days=365)
    assert suppression.check(store, "DANA@sunrise.example", NOW) is not None
    assert suppression.check(store, "lee@sunrise.example", NOW) is None


def test_suppression_expires(store):
    suppression.suppress(store, "dana@sunrise.example", SuppressionReason.bounced, NOW)
    assert suppression.check(store, "dana@sunrise.example", NOW + dt.timedelta(days=364)) is not None
    assert suppression.check(store, "dana@sunrise.example", NOW + dt.timedelta(days=366)) is None


def test_a_complaint_outlasts_a_later_bounce(store):
    suppression.suppress(store, "dana@sunrise.example", SuppressionReason.complained, NOW)
    suppression.suppress(store, "dana@sunrise.example", SuppressionReason.bounced, NOW + dt.timedelta(days=10))
    doc = store.get(suppression.path("dana@sunrise.example"))
    assert doc["reason"] == "complained" and doc["expire_at"] == NOW + dt.timedelta(days=5 * 365)


def test_an_operator_can_lift_a_suppression(store):
    suppression.suppress(store, "dana@sunrise.example", SuppressionReason.bounced, NOW)
    assert suppression.lift(store, "dana@sunrise.example") is True
    assert suppression.check(store, "dana@sunrise.example", NOW) is None
    assert suppression.lift(store, "dana@sunrise.example") is False


# --- unsubscribe tokens ------------------------------------------------------------------------

@pytest.fixture
def secrets():
    return Settings(Z3_BACKEND="local", PUBLIC_BASE_URL="https://z3.example")


def test_a_genuine_token_names_the_business_and_no_address(secrets):
    token = make_token(secrets, tenant_id="t_sunrise", address="dana@sunrise.example", issued_at=NOW)
    assert "dana" not in token and "sunrise.example" not in token
    request = read_token(secrets, token, now=NOW + dt.timedelta(days=89))
    assert request.tenant_id == "t_sunrise" and request.expires == NOW + unsubscribe.VALID_FOR


def test_an_expired_token_is_refused(secrets):
    token = make_token(secrets, tenant_id="t_sunrise", address="dana@sunrise.example", issued_at=NOW)
    with pytest.raises(ExpiredToken):
        read_token(secrets, token, now=NOW + dt.timedelta(days=90, seconds=1))


def test_a_forged_or_altered_token_is_refused(secrets):
    import base64
    import json

    token = make_token(secrets, tenant_id="t_sunrise", address="dana@sunrise.example", issued_at=NOW)
    version, payload, mac = token.split(".")
    other = base64.urlsafe_b64encode(json.dumps(
        {"t": "t_other", "r": "x", "e": 4102444800}).encode()).rstrip(b"=").decode()
    for forged in (f"{version}.{other}.{mac}",  # another business under the same MAC
                   f"{version}.{payload}.{mac[:-2]}AA",  # a bit flipped
                   f"v2.{payload}.{mac}", "", "garbage", "v1..", None):
        with pytest.raises(InvalidToken):
            read_token(secrets, forged, now=NOW)
    other_secret = Settings(Z3_BACKEND="local", Z3_SESSION_SECRET="another-secret-entirely")
    with pytest.raises(InvalidToken):
        read_token(other_secret, token, now=NOW)
    assert not isinstance(InvalidToken("x"), ExpiredToken)


def test_the_same_email_renders_the_same_token(secrets):
    """Retries render the same bytes (the idempotency key must see the same request)."""
    a = make_token(secrets, tenant_id="t_sunrise", address="dana@sunrise.example", issued_at=NOW)
    b = make_token(secrets, tenant_id="t_sunrise", address="dana@sunrise.example", issued_at=NOW)
    assert a == b


def test_rfc_8058_headers():
    headers = unsubscribe.list_unsubscribe_headers("https://z3.example/email_unsubscribe?token=t")
    assert headers == {"List-Unsubscribe": "<https://z3.example/email_unsubscribe?token=t>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- statuses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("current,new,moves", [
    (None, "sent", True), ("sending", "sent", True), ("sent", "delivered", True), ("delivered", "sent", False),
    ("delivered", "delivery_delayed", False), ("clicked", "opened", False), ("opened", "complained", True),
    ("delivered", "bounced", True), ("bounced", "delivered", False), ("complained", "clicked", False),
])
def test_statuses_never_move_backwards(current, new, moves):
    assert email_log.advances(current, new) is moves


def test_email_ids_are_stable_per_notification_and_recipient():
    a = email_log.email_id("call_summary:CA1", "Dana@sunrise.example")
    assert a == email_log.email_id("call_summary:CA1", "dana@sunrise.example ")
    assert a != email_log.email_id("call_summary:CA1", "lee@sunrise.example")
    assert a != email_log.email_id("call_summary:CA2", "dana@sunrise.example")
