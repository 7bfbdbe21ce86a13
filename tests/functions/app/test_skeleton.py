"""The app's skeleton: routing under /app, the error shape, CSRF, headers, cookies."""

from __future__ import annotations

from tests.functions.app.conftest import csrf_of, sign_in


def test_signed_out_page_redirects_to_signin_and_api_answers_401(app_client):
    page = app_client.get("/")
    assert page.status_code == 302 and "/signin" in page.headers["Location"]
    api = app_client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.get_json() == {"error": {"code": "unauthenticated", "message": "Sign in first."}}


def test_the_load_balancer_path_with_app_prefix_reaches_the_same_routes(app_client):
    assert app_client.get("/app/api/v1/me").status_code == 401
    assert app_client.get("/app/api/v1/nothing-here").get_json()["error"]["code"] == "not_found"


def test_me_after_signing_in_with_the_form(app_client, business, signed_in):
    me = app_client.get("/api/v1/me").get_json()
    assert me["tenant_id"] == business.tenant_id and me["role"] == "owner" and me["auth"] == "session"


def test_state_changing_request_without_csrf_is_403(app_client, business, signed_in):
    assert app_client.post("/signout").status_code == 403
    assert app_client.get("/api/v1/me").status_code == 200  # still signed in
    assert app_client.post("/signout", data={"csrf_token": signed_in}).status_code == 302
    assert app_client.get("/api/v1/me").status_code == 401


def test_signin_form_needs_its_csrf_cookie(app_client, business):
    reply = app_client.post("/signin", data={"email": business.owner_email, "password": "x", "csrf_token": "forged"})
    assert reply.status_code == 403


def test_security_headers_and_no_store(app_client, business, signed_in):
    reply = app_client.get("/")
    csp = reply.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in reply.headers["Permissions-Policy"]
    assert reply.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in reply.headers  # local mode is plain http


def test_static_files_have_hashed_names_and_are_immutable(app_client):
    page = app_client.get("/signin").text
    import re

    href = re.search(r'href="(/assets/app\.[0-9a-f]{12}\.css)"', page).group(1)
    css = app_client.get(href)
    assert css.status_code == 200 and "immutable" in css.headers["Cache-Control"]
    assert app_client.get("/assets/app.css").status_code == 404


def test_session_cookie_flags_in_local_mode(app_client, business):
    reply = sign_in(app_client, business.owner_email)
    cookie = [v for k, v in reply.headers.items() if k == "Set-Cookie" and v.startswith("z3_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


def test_wrong_password_and_unknown_email_get_the_same_answer(app_client, business):
    wrong = sign_in(app_client, business.owner_email, "not-the-password-at-all")
    unknown = sign_in(app_client, "nobody@nowhere.example", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is not correct." in wrong.text and "The email or password is not correct." in unknown.text
    assert csrf_of(wrong.text)
