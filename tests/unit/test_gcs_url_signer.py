"""Who signs a recording's V4 URL on GCS (``GcsBlobStore._signer``): on the emulator a key made
for the process, with the URL pointing at the emulator; credentials holding a key (a
service-account file) sign themselves; the metadata server's credentials (Cloud Run) hold none,
so the library is handed the account's email and a fresh access token and asks IAM signBlob.
Pure: no network (the credentials are stand-ins; no URL is made for the last case)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import google.auth.credentials
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from shared.adapters.gcp.storage import GcsBlobStore, _emulator_signer, make_client


class MetadataServerCredentials(google.auth.credentials.Credentials):
    """Like ``google.auth.compute_engine.Credentials``: a token from the metadata server, no key."""

    def __init__(self) -> None:
        super().__init__()
        self.service_account_email = "default"
        self.refreshed = 0

    def refresh(self, request) -> None:  # noqa: ANN001
        self.refreshed += 1
        self.token = "ya29.metadata-token"
        self.service_account_email = "app@z3-prod.iam.gserviceaccount.com"
        self.expiry = dt.datetime.utcnow() + dt.timedelta(hours=1)


def _store(credentials) -> GcsBlobStore:
    client = storage.Client(project="z3-prod", credentials=credentials)
    return GcsBlobStore(client, "z3-data")


def test_the_emulator_signs_with_a_process_key_and_points_at_itself():
    settings = SimpleNamespace(storage_emulator_endpoint="http://127.0.0.1:9023", project="z3-local")
    store = GcsBlobStore(make_client(settings), "b", emulator_endpoint=settings.storage_emulator_endpoint)
    signer = store._signer()
    assert signer == {"credentials": _emulator_signer(), "api_access_endpoint": "http://127.0.0.1:9023"}
    url = store.signed_url("recordings/t/CA1/RE1.wav", expires=dt.timedelta(minutes=5))
    assert url.startswith("http://127.0.0.1:9023/b/recordings/t/CA1/RE1.wav?") and "X-Goog-Signature=" in url


def test_credentials_with_a_key_sign_themselves():
    keyed = _emulator_signer()  # a service-account credential holding a private key
    assert isinstance(keyed, google.auth.credentials.Signing)
    signer = _store(keyed)._signer()  # the client scopes its own copy of the credentials
    assert list(signer) == ["credentials"] and signer["credentials"].signer_email == keyed.signer_email


def test_the_metadata_servers_credentials_hand_iam_the_account_and_a_fresh_token():
    credentials = MetadataServerCredentials()
    signer = _store(credentials)._signer()
    assert signer == {"service_account_email": "app@z3-prod.iam.gserviceaccount.com",
                      "access_token": "ya29.metadata-token"}
    assert credentials.refreshed == 1
    _store(credentials)._signer()
    assert credentials.refreshed == 1  # still valid: not refreshed again


def test_anonymous_credentials_are_not_mistaken_for_a_signer():
    assert not isinstance(AnonymousCredentials(), google.auth.credentials.Signing)
