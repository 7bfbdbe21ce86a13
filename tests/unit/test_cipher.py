"""The Cipher port's two implementations: LocalCipher (key file) and KmsCipher (Cloud KMS, here
against the loopback KMS sandbox speaking the REST wire format), held to the same properties."""

from __future__ import annotations

import json
import stat
import threading

import pytest
import requests

from shared.adapters.gcp.kms import KmsCipher
from shared.adapters.local.cipher import KEY_FILE, LocalCipher
from shared.config import ConfigurationError, Settings
from shared.ports import Cipher, StoreUnavailable
from tools.sandboxes.kms import KmsSandbox, crc32c

KEY = "projects/z3-test/locations/us/keyRings/z3/cryptoKeys/data"
OTHER_KEY = "projects/z3-test/locations/us/keyRings/z3/cryptoKeys/other"
SECRET = b"refresh-token-" + bytes(range(256))
CONTEXT = "tenants/t1/quickbooks"


def gcp_settings(endpoint: str, key: str | None = KEY) -> Settings:
    # The emulator host makes Settings accept the development secrets.
    return Settings(Z3_BACKEND="gcp", GOOGLE_CLOUD_PROJECT="z3-test", FIRESTORE_EMULATOR_HOST="127.0.0.1:1",
                    Z3_KMS_KEY=key, Z3_KMS_ENDPOINT=endpoint)


@pytest.fixture(scope="module")
def kms_sandbox():
    with KmsSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def local_cipher(tmp_path) -> LocalCipher:
    return LocalCipher.from_settings(Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data"))


@pytest.fixture
def kms_cipher(kms_sandbox):
    cipher = KmsCipher.from_settings(gcp_settings(kms_sandbox.url))
    yield cipher
    cipher.close()


@pytest.fixture(params=["local", "kms"])
def cipher(request) -> Cipher:
    return request.getfixturevalue(f"{request.param}_cipher")


# --- properties both implementations have ----------------------------------------------------

def test_is_a_cipher(cipher):
    assert isinstance(cipher, Cipher)


@pytest.mark.parametrize("plaintext", [b"", b"x", SECRET, bytes(200_000)])
def test_roundtrip(cipher, plaintext):
    sealed = cipher.encrypt(plaintext, CONTEXT)
    assert cipher.decrypt(sealed, CONTEXT) == plaintext
    if len(plaintext) >= 16:  # a short one may occur in random bytes by chance
        assert plaintext not in sealed


def test_roundtrip_unicode_and_empty_context(cipher):
    for context in ("", "tenants/é/ü/✓", "x" * 10_000):
        assert cipher.decrypt(cipher.encrypt(SECRET, context), context) == SECRET


def test_same_plaintext_gives_distinct_ciphertexts(cipher):
    sealed = {cipher.encrypt(SECRET, CONTEXT) for _ in range(5)}
    assert len(sealed) == 5


def test_wrong_context_rejected(cipher):
    sealed = cipher.encrypt(SECRET, CONTEXT)
    for other in ("tenants/t2/quickbooks", "tenants/t1/quickbooks ", "", CONTEXT.upper()):
        with pytest.raises(ValueError):
            cipher.decrypt(sealed, other)
    assert cipher.decrypt(sealed, CONTEXT) == SECRET


def test_flipping_any_byte_is_detected(cipher):
    sealed = cipher.encrypt(b"short secret", CONTEXT)
    for index in range(len(sealed)):
        for bit in (0x01, 0x80):
            tampered = bytearray(sealed)
            tampered[index] ^= bit
            with pytest.raises(ValueError):
                cipher.decrypt(bytes(tampered), CONTEXT)


def test_truncated_or_extended_ciphertext_rejected(cipher):
    sealed = cipher.encrypt(SECRET, CONTEXT)
    for broken in (b"", sealed[:1], sealed[:3], sealed[:40], sealed[:-1], sealed + b"\x00"):
        with pytest.raises(ValueError):
            cipher.decrypt(broken, CONTEXT)


def test_context_must_be_a_string(cipher):
    with pytest.raises(TypeError):
        cipher.encrypt(SECRET, b"tenants/t1")  # type: ignore[arg-type]


# --- LocalCipher: the key file --------------------------------------------------------------

def test_key_file_created_0600_and_reused(tmp_path):
    settings = Settings(Z3_BACKEND="local", Z3_DATA_DIR=tmp_path / "data")
    key_path = tmp_path / "data" / KEY_FILE
    assert not key_path.exists()
    first = LocalCipher.from_settings(settings)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = key_path.read_bytes()
    assert len(key) == 32
    sealed = first.encrypt(SECRET, CONTEXT)

    second = LocalCipher.from_settings(settings)
    assert key_path.read_bytes() == key
    assert second.decrypt(sealed, CONTEXT) == SECRET
    assert [p.name for p in key_path.parent.iterdir()] == [KEY_FILE]  # no temp files left behind


def test_another_key_file_cannot_decrypt(tmp_path):
    sealed = LocalCipher.from_key_file(tmp_path / "a" / KEY_FILE).encrypt(SECRET, CONTEXT)
    with pytest.raises(ValueError, match="different local key"):
        LocalCipher.from_key_file(tmp_path / "b" / KEY_FILE).decrypt(sealed, CONTEXT)


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    path = tmp_path / "data" / KEY_FILE
    ciphers: list[LocalCipher] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        ciphers.append(LocalCipher.from_key_file(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sealed = ciphers[0].encrypt(SECRET, CONTEXT)
    assert all(c.decrypt(sealed, CONTEXT) == SECRET for c in ciphers)


def test_corrupt_key_file_refused(tmp_path):
    path = tmp_path / KEY_FILE
    path.write_bytes(b"too short")
    with pytest.raises(ValueError, match="not a Z3 local key"):
        LocalCipher.from_key_file(path)


# --- KmsCipher: Cloud KMS specifics ---------------------------------------------------------

def test_kms_wire_format_and_no_dek_cache(kms_cipher, kms_sandbox):
    sealed = kms_cipher.encrypt(SECRET, CONTEXT)
    assert sealed[0] == 1
    wrapped_len = int.from_bytes(sealed[1:3], "big")
    assert len(sealed) == 3 + wrapped_len + 12 + len(SECRET) + 16
    before = kms_sandbox.calls["decrypt"]
    kms_cipher.decrypt(sealed, CONTEXT)
    kms_cipher.decrypt(sealed, CONTEXT)
    assert kms_sandbox.calls["decrypt"] == before + 2  # every decrypt asks KMS


def test_kms_another_keys_ciphertext_rejected(kms_sandbox):
    sealed = KmsCipher.from_settings(gcp_settings(kms_sandbox.url, OTHER_KEY)).encrypt(SECRET, CONTEXT)
    with pytest.raises(ValueError):
        KmsCipher.from_settings(gcp_settings(kms_sandbox.url)).decrypt(sealed, CONTEXT)


def test_kms_unreachable_is_store_unavailable():
    sandbox = KmsSandbox().start()
    cipher = KmsCipher.from_settings(gcp_settings(sandbox.url))
    sealed = cipher.encrypt(SECRET, CONTEXT)  # the client is built and has talked to it
    sandbox.stop()
    with pytest.raises(StoreUnavailable):
        cipher.encrypt(SECRET, CONTEXT)
    with pytest.raises(StoreUnavailable):
        cipher.decrypt(sealed, CONTEXT)


def test_kms_sandbox_restarted_with_same_seed_still_decrypts():
    sandbox = KmsSandbox().start()
    port = sandbox.port
    cipher = KmsCipher.from_settings(gcp_settings(sandbox.url))
    sealed = cipher.encrypt(SECRET, CONTEXT)
    sandbox.stop()
    with KmsSandbox().start(port=port):
        assert cipher.decrypt(sealed, CONTEXT) == SECRET


def test_kms_transient_unavailable_is_retried(kms_cipher, kms_sandbox):
    kms_sandbox.fail_next(2, "UNAVAILABLE")
    sealed = kms_cipher.encrypt(SECRET, CONTEXT)
    kms_sandbox.fail_next(1, "UNAVAILABLE")
    assert kms_cipher.decrypt(sealed, CONTEXT) == SECRET


def test_kms_persistent_failures_are_store_unavailable(kms_sandbox):
    cipher = KmsCipher(KEY, endpoint=kms_sandbox.url, deadline=0.5)
    try:
        sealed = cipher.encrypt(SECRET, CONTEXT)
        kms_sandbox.fail_next(1000, "UNAVAILABLE")
        with pytest.raises(StoreUnavailable):
            cipher.decrypt(sealed, CONTEXT)
        kms_sandbox.clear_faults()
        for status in ("PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION", "INTERNAL"):
            kms_sandbox.fail_next(1, status)
            with pytest.raises(StoreUnavailable, match=status):
                cipher.decrypt(sealed, CONTEXT)
        kms_sandbox.fail_next(1, "INVALID_ARGUMENT")  # on encrypt, our request was bad: not "tampered"
        with pytest.raises(StoreUnavailable):
            cipher.encrypt(SECRET, CONTEXT)
    finally:
        kms_sandbox.clear_faults()
        cipher.close()


def test_kms_key_missing_fails_at_first_use_not_at_build(kms_sandbox):
    cipher = KmsCipher.from_settings(gcp_settings(kms_sandbox.url, key=None))
    with pytest.raises(ConfigurationError, match="Z3_KMS_KEY"):
        cipher.encrypt(SECRET, CONTEXT)
    version = KmsCipher.from_settings(gcp_settings(kms_sandbox.url, key=KEY + "/cryptoKeyVersions/1"))
    with pytest.raises(ConfigurationError, match="CryptoKey"):
        version.encrypt(SECRET, CONTEXT)


def test_kms_endpoint_must_be_loopback_outside_the_emulators():
    cipher = KmsCipher(KEY, endpoint="http://kms.example.com", allow_remote_endpoint=False)
    with pytest.raises(ConfigurationError, match="loopback"):
        cipher.encrypt(SECRET, CONTEXT)


def test_kms_sandbox_mounted_under_a_dispatcher():
    from tools.wsgi import ServerThread, mount

    sandbox = KmsSandbox()
    with ServerThread(mount({"_sandbox/kms": sandbox.wsgi_app})) as server:
        cipher = KmsCipher.from_settings(gcp_settings(f"{server.url}/_sandbox/kms"))
        assert cipher.decrypt(cipher.encrypt(SECRET, CONTEXT), CONTEXT) == SECRET
        cipher.close()


def test_importing_kms_adapter_imports_no_google_library():
    from tests.unit.test_import_cost import _imported_after

    assert _imported_after("import shared.adapters.gcp.kms, tools.sandboxes") == []


# --- the sandbox's wire format ---------------------------------------------------------------

def _post(sandbox: KmsSandbox, path: str, body: dict) -> requests.Response:
    return requests.post(f"{sandbox.url}/v1/{path}?%24alt=json%3Benum-encoding%3Dint", data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=5)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_sandbox_speaks_kms_json(kms_sandbox):
    encrypted = _post(kms_sandbox, f"{KEY}:encrypt", {
        "plaintext": _b64(b"dek"), "additionalAuthenticatedData": _b64(b"ctx"),
        "plaintextCrc32c": str(crc32c(b"dek")),
    })
    assert encrypted.status_code == 200
    body = encrypted.json()
    assert body["name"] == f"{KEY}/cryptoKeyVersions/1"
    assert body["verifiedPlaintextCrc32c"] is True
    assert "verifiedAdditionalAuthenticatedDataCrc32c" not in body  # proto3 JSON omits false
    assert body["protectionLevel"] == 1
    import base64

    assert int(body["ciphertextCrc32c"]) == crc32c(base64.b64decode(body["ciphertext"]))

    decrypted = _post(kms_sandbox, f"{KEY}:decrypt",
                      {"ciphertext": body["ciphertext"], "additionalAuthenticatedData": _b64(b"ctx")})
    assert decrypted.status_code == 200 and base64.b64decode(decrypted.json()["plaintext"]) == b"dek"

    wrong = _post(kms_sandbox, f"{KEY}:decrypt",
                  {"ciphertext": body["ciphertext"], "additionalAuthenticatedData": _b64(b"other")})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                                      "Decryption failed: verify that 'name' refers to the correct CryptoKey."}}


@pytest.mark.parametrize("path,body,status", [
    (f"{KEY}:encrypt", {"plaintext": _b64(b"x"), "plaintextCrc32c": "1"}, 400),
    (f"{KEY}:encrypt", {"plaintext": "***"}, 400),
    (f"{KEY}:encrypt", {"plaintext": _b64(b"x"), "bogus": 1}, 400),
    (f"{KEY}:encrypt", {"plaintext": _b64(bytes(64 * 1024 + 1))}, 400),
    (f"{KEY}:encrypt", {}, 400),
    (f"{KEY}:decrypt", {"ciphertext": _b64(b"not a kms ciphertext at all")}, 400),
    (f"{KEY}/cryptoKeyVersions/1:decrypt", {"ciphertext": _b64(b"x")}, 404),
    ("projects/p/locations/l/keyRings/r:encrypt", {"plaintext": _b64(b"x")}, 404),
])
def test_sandbox_refuses_bad_requests_like_kms(kms_sandbox, path, body, status):
    response = _post(kms_sandbox, path, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status and error["status"] in ("INVALID_ARGUMENT", "NOT_FOUND") and error["message"]
