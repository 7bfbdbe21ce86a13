"""Workers process nothing for a caller they cannot prove (shared.webhooks.invoker through
shared.worker): on the local stack an unsigned or forged post to ``notify`` sends no email
(403); on gcp a missing, forged, expired, wrong-audience or wrong-invoker OIDC token is 403 for
every task target, the scheduled sweep and the call.completed subscriber. Test tokens are signed
with an RSA key made here, and the verifier fetches its certificates from a loopback server."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared import runtime, worker
from shared.config import Settings
from shared.runtime import Ports
from shared.webhooks.invoker import (DELIVERY_HEADER, DELIVERY_KEY_FILE, STRIPPED_SIGNATURE, OidcVerifier,
                                     google_certs, sign_delivery)
from tests.functions.email.support import OWNER, emails, task
from tests.functions.local import worker_headers

NOTIFY = task(to_email=OWNER)


# -- local stack -----------------------------------------------------------------------------------

def test_an_unsigned_post_to_notify_is_403_and_sends_nothing(client, business, resend):
    response = client("notify").post("/", data=NOTIFY, headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert not resend.emails and emails(business) == []


@pytest.mark.parametrize("forgery", ["another key", "another function", "another body", "stale", "garbage"])
def test_a_forged_delivery_signature_is_403(client, business, resend, forgery):
    key = os.urandom(32) if forgery == "another key" else _key()
    function = "recording_ingest" if forgery == "another function" else "notify"
    signed = b"{}" if forgery == "another body" else NOTIFY
    at = time.time() - 600 if forgery == "stale" else None
    header = "t=1,v1=zz" if forgery == "garbage" else sign_delivery(key, function, signed, now=at)
    response = client("notify").post("/", data=NOTIFY, headers={"Content-Type": "application/json",
                                                                DELIVERY_HEADER: header})
    assert response.status_code == 403
    assert not resend.emails


def test_a_signed_post_is_processed_and_the_key_file_is_private(client, settings, business, resend):
    response = client("notify").post("/", data=NOTIFY, headers=worker_headers("notify", NOTIFY))
    assert response.status_code == 200 and len(resend.emails) == 1
    mode = (settings.z3_data_dir / DELIVERY_KEY_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_text_plain_post_to_a_json_worker_is_415(client, business, resend):
    response = client("notify").post("/", data=NOTIFY,
                                     headers=worker_headers("notify", NOTIFY, {"Content-Type": "text/plain"}))
    assert response.status_code == 415 and "application/json" in response.get_json()["error"]
    assert not resend.emails


def test_an_unsigned_cloud_event_is_403(client, business):
    headers = {"Content-Type": "application/json", "ce-id": "m-1", "ce-specversion": "1.0",
               "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
               "ce-source": "//pubsub.googleapis.com/projects/z3-local/topics/z3-call-completed"}
    body = json.dumps({"message": {"data": "e30=", "messageId": "m-1"}, "subscription": "s"}).encode()
    assert client("call_completed").post("/", data=body, headers=headers).status_code == 403
    signed = client("call_completed").post("/", data=body, headers=worker_headers("call_completed", body, headers))
    assert signed.status_code == 200  # proven; then acknowledged as unreadable (no such schema)


def _key() -> bytes:
    from shared.webhooks.invoker import delivery_key

    return delivery_key(runtime.settings().z3_data_dir)


# -- gcp: OIDC tokens ------------------------------------------------------------------------------

TASKS_SA = "z3-tasks-invoker@z3-test.iam.gserviceaccount.com"
EVENTS_SA = "z3-call-completed@z3-test.iam.gserviceaccount.com"
RUN_URL = "https://call-completed-123456789.us-central1.run.app"
KID = "test-key-1"


def _rsa():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class CertServer:
    """Google's certificate endpoint on loopback: {key id: PEM}, with Cache-Control."""

    def __init__(self, certs: dict[str, str]) -> None:
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                body = json.dumps(certs).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/v1/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def google_key():
    private, public = _rsa()
    server = CertServer({KID: public})
    yield private, server
    server.stop()


@pytest.fixture
def gcp(tmp_path, ports, google_key):
    """The functions in gcp mode (emulated, so no secrets are demanded) on the local store."""
    settings = Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-test", FIRESTORE_EMULATOR_HOST="127.0.0.1:9",
                        PUBLIC_BASE_URL="https://z3.example", Z3_DATA_DIR=tmp_path / "gcp-data",
                        Z3_TASKS_SERVICE_ACCOUNT=TASKS_SA, Z3_EVENTS_INVOKER=EVENTS_SA, Z3_FUNCTION_RUN_URL=RUN_URL)
    runtime.use(Ports(settings).provide(store=ports.store(), tasks=ports.tasks(), blobs=ports.blobs(),
                                        clock=ports.clock()))
    worker.use_token_verifier(OidcVerifier(certs=google_certs(google_key[1].url)))
    yield settings
    worker.use_token_verifier(None)


def token(private: str, *, aud: str, email: str = TASKS_SA, expires_in: int = 3600, key_id: str = KID,
          stripped: bool = False) -> str:
    from google.auth import crypt, jwt

    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": aud, "email": email, "email_verified": True,
              "sub": "1234567890", "iat": now - 10, "exp": now + expires_in}
    signed = jwt.encode(crypt.RSASigner.from_string(private, key_id=key_id), claims).decode()
    return signed.rsplit(".", 1)[0] + "." + STRIPPED_SIGNATURE if stripped else signed


WORKERS = [("notify", "tasks"), ("recording_ingest", "tasks"), ("retell_recording_copy", "tasks"),
           ("call_finalize", "tasks"), ("recording_sweep", "scheduler")]


def _post(client, function: str, authorization: str | None):
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client(function).post("/", data=b'{"not": "a task"}', headers=headers)


@pytest.mark.parametrize("function,kind", WORKERS)
def test_gcp_workers_refuse_every_unproven_token(client, gcp, google_key, function, kind):
    private, _server = google_key
    other_private, _ = _rsa()
    url = f"https://z3.example/{function}"
    refused = {
        "no token": None,
        "not a bearer token": "Basic dXNlcjpwYXNz",
        "forged (another key, same key id)": f"Bearer {token(other_private, aud=url)}",
        "expired": f"Bearer {token(private, aud=url, expires_in=-120)}",
        "wrong audience": f"Bearer {token(private, aud='https://z3.example/app')}",
        "wrong email": f"Bearer {token(private, aud=url, email='someone@evil.example')}",
        "unknown key id": f"Bearer {token(private, aud=url, key_id='nope')}",
        "stripped signature, wrong email": f"Bearer {token(private, aud=url, email='x@evil.example', stripped=True)}",
    }
    for case, authorization in refused.items():
        response = _post(client, function, authorization)
        assert response.status_code == 403, (case, response.get_data(as_text=True))
    # Proven: the worker runs (and answers for its body, not for its caller).
    for authorization in (f"Bearer {token(private, aud=url)}", f"Bearer {token(private, aud=url, stripped=True)}"):
        assert _post(client, function, authorization).status_code != 403


def test_gcp_certificates_are_fetched_once_per_instance(client, gcp, google_key):
    private, server = google_key
    before = server.fetches
    for _ in range(3):
        _post(client, "call_finalize", f"Bearer {token(private, aud='https://z3.example/call_finalize')}")
    assert server.fetches - before == 1


def test_gcp_subscriber_accepts_only_the_events_invoker(client, gcp, google_key):
    from tests.functions.agent.test_call_completed import deliver
    from shared.voice.events import CallCompleted

    private, _server = google_key
    message = CallCompleted(tenant_id="t-none", call_sid="CA" + "2" * 32, retell_call_id="c", completed_at=1)

    def with_token(authorization: str | None):
        original = client("call_completed").post

        def post(path, data, headers):
            headers = {k: v for k, v in headers.items() if k != DELIVERY_HEADER}
            if authorization:
                headers["Authorization"] = authorization
            return original(path, data=data, headers=headers)

        holder = type("C", (), {"post": staticmethod(post)})
        return deliver(lambda _name: holder, message)

    assert with_token(None).status_code == 403
    assert with_token(f"Bearer {token(private, aud=RUN_URL, email=TASKS_SA)}").status_code == 403
    assert with_token(f"Bearer {token(private, aud='https://other.run.app', email=EVENTS_SA)}").status_code == 403
    assert with_token(f"Bearer {token(private, aud=RUN_URL, email=EVENTS_SA)}").status_code == 200


# -- emulated gcp: the emulators' stand-ins for the OIDC token --------------------------------------

def _emulated_key(settings) -> bytes:
    from shared.webhooks.invoker import delivery_key

    return delivery_key(settings.z3_data_dir)


@pytest.fixture
def emulated_mail(gcp, ports, resend):
    """The emulated settings of ``gcp``, with the Resend SDK pointed at the sandbox."""
    settings = Settings(**{**gcp.model_dump(by_alias=True, exclude_none=True), "RESEND_API_URL": resend.url})
    runtime.use(Ports(settings).provide(store=ports.store(), tasks=ports.tasks(), blobs=ports.blobs(),
                                        clock=ports.clock()))
    return settings


def test_emulated_workers_accept_the_data_dirs_delivery_signature_and_nothing_weaker(client, emulated_mail,
                                                                                   business, resend):
    """The Cloud Tasks emulator sends no OIDC token: in emulated mode a task signed with the data
    dir's key (what the gcp task queue adds there) is processed; unsigned or forged is still 403."""
    key = _emulated_key(emulated_mail)
    refused = {
        "unsigned": {},
        "another key": {DELIVERY_HEADER: sign_delivery(os.urandom(32), "notify", NOTIFY)},
        "another function": {DELIVERY_HEADER: sign_delivery(key, "recording_ingest", NOTIFY)},
        "stale": {DELIVERY_HEADER: sign_delivery(key, "notify", NOTIFY, now=time.time() - 600)},
    }
    for case, extra in refused.items():
        response = client("notify").post("/", data=NOTIFY, headers={"Content-Type": "application/json", **extra})
        assert response.status_code == 403, case
    assert not resend.emails
    signed = {"Content-Type": "application/json", DELIVERY_HEADER: sign_delivery(key, "notify", NOTIFY)}
    assert client("notify").post("/", data=NOTIFY, headers=signed).status_code == 200
    assert len(resend.emails) == 1


def _push(client, query: str):
    from tests.functions.agent.test_call_completed import deliver
    from shared.voice.events import CallCompleted

    message = CallCompleted(tenant_id="t-none", call_sid="CA" + "3" * 32, retell_call_id="c", completed_at=1)
    original = client("call_completed").post

    def post(path, data, headers):  # what the Pub/Sub emulator sends: no header of ours, the endpoint's query
        headers = {k: v for k, v in headers.items() if k != DELIVERY_HEADER}
        return original(path + query, data=data, headers=headers)

    return deliver(lambda _name: type("C", (), {"post": staticmethod(post)}), message)


def test_emulated_subscriber_accepts_only_its_own_push_token(client, gcp):
    from shared.adapters.gcp.provision import push_endpoint
    from shared.webhooks.invoker import PUSH_TOKEN_PARAM, push_token

    key = _emulated_key(gcp)
    endpoint = push_endpoint(gcp, "call_completed")
    assert endpoint == f"https://z3.example/call_completed?{PUSH_TOKEN_PARAM}={push_token(key, 'call_completed')}"
    assert _push(client, "").status_code == 403
    assert _push(client, f"?{PUSH_TOKEN_PARAM}=").status_code == 403
    assert _push(client, f"?{PUSH_TOKEN_PARAM}={'0' * 64}").status_code == 403
    assert _push(client, f"?{PUSH_TOKEN_PARAM}={push_token(os.urandom(32), 'call_completed')}").status_code == 403
    assert _push(client, f"?{PUSH_TOKEN_PARAM}={push_token(key, 'notify')}").status_code == 403
    assert _push(client, "?" + endpoint.split("?", 1)[1]).status_code == 200
    # a push token proves a subscriber's caller only: a task target does not take one
    response = client("notify").post(f"/?{PUSH_TOKEN_PARAM}={push_token(key, 'notify')}", data=NOTIFY,
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 403


@pytest.fixture
def production(tmp_path, ports, google_key):
    """gcp without emulators (what Cloud Functions runs): real-looking secrets, no emulator host."""
    secrets = {Settings.model_fields[name].alias: f"prod-{name}-{os.urandom(16).hex()}"
               for name in Settings.secret_fields() if Settings.model_fields[name].default is not None}
    secrets["RESEND_WEBHOOK_SECRET"] = "whsec_" + "QUJD" * 8
    settings = Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-test", PUBLIC_BASE_URL="https://z3.example",
                        Z3_DATA_DIR=tmp_path / "prod-data", Z3_TASKS_SERVICE_ACCOUNT=TASKS_SA,
                        Z3_EVENTS_INVOKER=EVENTS_SA, Z3_FUNCTION_RUN_URL=RUN_URL,
                        FIRESTORE_EMULATOR_HOST=None, **secrets)  # whatever the session's environment says
    assert not settings.emulated
    runtime.use(Ports(settings).provide(store=ports.store(), tasks=ports.tasks(), blobs=ports.blobs(),
                                        clock=ports.clock()))
    worker.use_token_verifier(OidcVerifier(certs=google_certs(google_key[1].url)))
    yield settings
    worker.use_token_verifier(None)


def test_production_workers_take_no_stand_in_for_the_oidc_token(client, production, google_key):
    from shared.adapters.gcp.provision import push_endpoint
    from shared.webhooks.invoker import PUSH_TOKEN_PARAM, push_token

    key = _emulated_key(production)
    body = b'{"not": "a task"}'
    signed = {"Content-Type": "application/json", DELIVERY_HEADER: sign_delivery(key, "notify", body)}
    assert client("notify").post("/", data=body, headers=signed).status_code == 403
    assert push_endpoint(production, "call_completed") == "https://z3.example/call_completed"
    assert _push(client, f"?{PUSH_TOKEN_PARAM}={push_token(key, 'call_completed')}").status_code == 403
    private, _server = google_key
    proven = f"Bearer {token(private, aud='https://z3.example/notify')}"
    assert _post(client, "notify", proven).status_code == 200  # proven; then dropped as unreadable
