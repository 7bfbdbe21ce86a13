"""Sign-in abuse, sessions, reset links, sign-up rules and 2FA through the real app."""

from __future__ import annotations

import datetime as dt

import pyotp

from shared.accounts import sessions
from tests.functions.app.conftest import PASSWORD, add_member, csrf_of, sign_in
from shared.models.tenant import Role


def test_throttling_grows_then_locks_and_the_emailed_link_unlocks(app_client, business, clock, outbox):
    for _ in range(2):
        assert sign_in(app_client, business.owner_email, "wrong-password-000").status_code == 401
    assert sign_in(app_client, business.owner_email, "wrong-password-000").status_code == 401  # 3rd: now delayed
    early = sign_in(app_client, business.owner_email, PASSWORD)
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"  # even the right password waits
    for _ in range(7):
        clock.advance(seconds=61)
        sign_in(app_client, business.owner_email, "wrong-password-000")
    clock.advance(seconds=61)
    locked = sign_in(app_client, business.owner_email, PASSWORD)
    assert locked.status_code == 429 and "locked" in locked.text
    unlock = outbox.link("security_alert", "action_url")
    token = unlock.split("token=")[1]
    page = app_client.get(unlock)
    assert app_client.post("/unlock", data={"token": token, "csrf_token": csrf_of(page.text)}).status_code == 200
    assert sign_in(app_client, business.owner_email, PASSWORD).status_code == 302
    page = app_client.get(unlock)
    assert app_client.post("/unlock", data={"token": token, "csrf_token": csrf_of(page.text)}).status_code == 410


def test_unknown_email_is_throttled_like_a_real_one(app_client, business):
    answers = [sign_in(app_client, "ghost@nowhere.example", "wrong-password-000").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


def test_per_ip_throttle_spans_accounts(app_client, business, clock):
    ip = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(10):
        clock.advance(seconds=1)
        sign_in(app_client, f"user{n}@nowhere.example", "wrong-password-000", **ip)
    assert sign_in(app_client, business.owner_email, PASSWORD, **ip).status_code == 429
    assert sign_in(app_client, business.owner_email, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_session_fixation_a_planted_session_id_is_replaced_at_signin(app_client, business, ports, clock):
    planted = sessions.create(ports.store(), clock.now(), tenant_id=business.tenant_id, user_id=business.owner_id,
                              role="owner", stage="mfa")  # e.g. a half-finished sign-in an attacker started
    app_client.set_cookie("z3_session", planted.id)
    page = app_client.get("/signin")
    reply = app_client.post("/signin", data={"email": business.owner_email, "password": PASSWORD,
                                             "csrf_token": csrf_of(page.text)})
    assert reply.status_code == 302
    new_id = app_client.get_cookie("z3_session").value
    assert new_id != planted.id
    assert sessions.load(ports.store(), planted.id, clock.now()) is None
    assert sessions.load(ports.store(), new_id, clock.now()) is not None


def test_session_expires_after_30_idle_minutes_and_after_12_hours(app_client, business, signed_in, clock):
    clock.advance(minutes=29)
    assert app_client.get("/api/v1/me").status_code == 200  # use moves the idle expiry
    clock.advance(minutes=29)
    assert app_client.get("/api/v1/me").status_code == 200
    clock.advance(minutes=31)
    assert app_client.get("/api/v1/me").status_code == 401
    assert sign_in(app_client, business.owner_email).status_code == 302
    for _ in range(25):  # busy all day: the absolute limit still ends it
        clock.advance(minutes=29)
        status = app_client.get("/api/v1/me").status_code
    assert status == 401


def test_reset_link_works_once_within_30_minutes_and_signs_out_other_sessions(app_client, business, outbox, client,
                                                                              signed_in, clock):
    other = client("app")  # a second client is the same app; use a fresh test client for the reset
    from tools.wsgi import function_app

    fresh = function_app("app").test_client()
    page = fresh.get("/password/forgot")
    fresh.post("/password/forgot", data={"email": business.owner_email, "csrf_token": csrf_of(page.text)})
    link = outbox.link("password_reset", "reset_url")
    token = link.split("token=")[1]
    form = fresh.get(link)
    new = "saffron-lantern-river-77"
    assert fresh.post("/password/reset", data={"token": token, "password": new,
                                               "csrf_token": csrf_of(form.text)}).status_code == 200
    assert app_client.get("/api/v1/me").status_code == 401  # the other session ended
    again = fresh.post("/password/reset", data={"token": token, "password": "another-fine-phrase-99",
                                                "csrf_token": csrf_of(form.text)})
    assert again.status_code == 410
    assert sign_in(app_client, business.owner_email, new).status_code == 302
    # a second link, used after 31 minutes, is refused
    fresh.post("/password/forgot", data={"email": business.owner_email, "csrf_token": csrf_of(page.text)})
    late = outbox.link("password_reset", "reset_url").split("token=")[1]
    clock.advance(minutes=31)
    assert fresh.post("/password/reset", data={"token": late, "password": "yet-another-phrase-12",
                                               "csrf_token": csrf_of(form.text)}).status_code == 410
    assert other is not None


def _signup(app_client, **overrides):
    page = app_client.get("/signup")
    data = {"business_name": "Lakeside Plumbing", "owner_name": "Sam Ortiz", "email": "sam@lakeside.example",
            "phone": "+13035550123", "country": "US", "state": "CO", "time_zone": "America/Denver",
            "password": "copper-kettle-window-58", "adult_and_accepts": "yes", "csrf_token": csrf_of(page.text)}
    data.update(overrides)
    return app_client.post("/signup", data=data)


def test_signup_refuses_eu_before_storing_anything(app_client, ports, outbox):
    reply = _signup(app_client, country="DE")
    assert reply.status_code == 422 and "EU or the EEA" in reply.text
    assert ports.store().query(__import__("shared.ports", fromlist=["Query"]).Query("tenants")) == []
    assert "United States only" in _signup(app_client, country="CA").text
    assert _signup(app_client, adult_and_accepts="").status_code == 422
    assert "common or breached" in _signup(app_client, password="password1234").text
    assert outbox.sent == []


def test_signup_then_verify_by_single_use_link(app_client, ports, outbox):
    reply = _signup(app_client)
    assert reply.status_code == 302
    me = app_client.get("/api/v1/me").get_json()
    acceptances = ports.store().query(__import__("shared.ports", fromlist=["Query"]).Query(
        f"tenants/{me['tenant_id']}/policy_acceptances"))
    assert acceptances[0].data["policy_version"] and acceptances[0].data["ip"] == "127.0.0.1"
    link = outbox.link("verify_email", "verify_url")
    token = link.split("token=")[1]
    page = app_client.get(link)
    assert app_client.post("/verify", data={"token": token, "csrf_token": csrf_of(page.text)}).status_code == 200
    user = ports.store().get(f"tenants/{me['tenant_id']}/users/{me['user_id']}")
    assert user["email_verified_at"] is not None
    assert app_client.post("/verify", data={"token": token, "csrf_token": csrf_of(page.text)}).status_code == 410


def test_2fa_setup_signin_with_code_no_replay_and_disable_alerts(app_client, business, outbox, clock, ports):
    sign_in(app_client, business.owner_email)
    page = app_client.get("/account/security")
    setup = app_client.post("/account/2fa/setup", data={"csrf_token": csrf_of(page.text)})
    assert "data:image/svg+xml;base64," in setup.text
    secret = setup.text.split('id="totp-secret">')[1].split("<")[0]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = app_client.post("/account/2fa/confirm", data={"code": code, "csrf_token": csrf_of(setup.text)})
    assert "recovery codes" in confirmed.text
    stored = ports.store().get(f"tenants/{business.tenant_id}/users/{business.owner_id}")
    assert secret not in str(stored)  # encrypted with the Cipher port
    # turning 2FA on is a privilege change: a new session id, and the page's forms carry its token
    assert app_client.post("/signout", data={"csrf_token": csrf_of(confirmed.text)}).status_code == 302
    reply = sign_in(app_client, business.owner_email)
    assert reply.headers["Location"].startswith("/signin/code")
    assert app_client.get("/api/v1/me").status_code == 401  # password alone signs nobody in
    form = app_client.get("/signin/code")
    assert app_client.post("/signin/code", data={"code": code, "csrf_token": csrf_of(form.text)}).status_code == 401
    clock.advance(seconds=30)
    fresh = pyotp.TOTP(secret).at(clock.now())
    assert app_client.post("/signin/code", data={"code": fresh, "csrf_token": csrf_of(form.text)}).status_code == 302
    assert app_client.get("/api/v1/me").status_code == 200
    clock.advance(seconds=30)
    page = app_client.get("/account/security")
    off = app_client.post("/account/2fa/disable", data={"password": PASSWORD, "code": pyotp.TOTP(secret).at(clock.now()),
                                                        "csrf_token": csrf_of(page.text)})
    assert "is off" in off.text
    assert outbox.last("security_alert").context["event"] == "Two-factor authentication was turned off"


def test_removed_member_is_signed_out_at_once(app_client, business, ports, signed_in):
    from tools.wsgi import function_app

    staff_id = add_member(ports, business, "tech@sunrise.example", Role.staff)
    staff = function_app("app").test_client()
    assert sign_in(staff, "tech@sunrise.example").status_code == 302
    assert staff.get("/api/v1/me").status_code == 200
    assert staff.post(f"/team/{business.owner_id}/remove", data={"csrf_token": csrf_of(staff.get("/team").text)}
                      ).status_code == 403  # staff may not manage members
    page = app_client.get("/team")
    assert app_client.post(f"/team/{staff_id}/remove", data={"csrf_token": csrf_of(page.text)}).status_code == 302
    assert staff.get("/api/v1/me").status_code == 401


def test_new_device_signin_sends_a_security_alert(app_client, business, outbox):
    assert sign_in(app_client, business.owner_email).status_code == 302  # first sign-in: this device is now known
    assert not [r for r in outbox.sent if r.template == "security_alert"]
    from tools.wsgi import function_app

    elsewhere = function_app("app").test_client()
    assert sign_in(elsewhere, business.owner_email, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert outbox.last("security_alert").context["event"] == "New sign-in to your account"
    assert dt is not None
