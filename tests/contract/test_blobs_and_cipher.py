"""BlobStore and Cipher contracts."""

from __future__ import annotations

import hashlib

import pytest

from shared.ports import NotFound


def test_blob_roundtrip_with_digest(ports, marker):
    blobs = ports.blobs()
    data = b"RIFF" + bytes(range(256)) * 40
    path = f"tenants/t1/recordings/{marker}/RE1.wav"
    info = blobs.put(path, data, content_type="audio/wav")
    assert info.size == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    assert blobs.get(path) == data
    stat = blobs.stat(path)
    assert stat is not None and stat.size == len(data) and stat.content_type == "audio/wav"
    assert stat.sha256 == info.sha256


def test_a_streamed_blob_is_whole_and_a_failed_stream_leaves_none(ports, marker):
    blobs = ports.blobs()
    chunks = [bytes([n]) * 700_000 for n in range(4)]  # more than one resumable-upload chunk
    path = f"tenants/t1/exports/{marker}/all.zip"
    info = blobs.put_stream(path, iter(chunks), content_type="application/zip")
    whole = b"".join(chunks)
    assert (info.size, info.sha256) == (len(whole), hashlib.sha256(whole).hexdigest())
    assert blobs.get(path) == whole and blobs.stat(path).sha256 == info.sha256

    def broken():
        yield b"x" * 600_000
        raise RuntimeError("the export failed half-way")

    with pytest.raises(RuntimeError):
        blobs.put_stream(f"tenants/t1/exports/{marker}/half.zip", broken())
    assert blobs.stat(f"tenants/t1/exports/{marker}/half.zip") is None


def test_blob_overwrite_list_delete(ports, marker):
    blobs = ports.blobs()
    prefix = f"tenants/t1/exports/{marker}/"
    blobs.put(prefix + "b.zip", b"one")
    blobs.put(prefix + "a.zip", b"two")
    blobs.put(prefix + "b.zip", b"three")
    blobs.put(f"tenants/t2/exports/{marker}/c.zip", b"other tenant")
    assert blobs.list(prefix) == [prefix + "a.zip", prefix + "b.zip"]
    assert blobs.get(prefix + "b.zip") == b"three"
    blobs.delete(prefix + "a.zip")
    blobs.delete(prefix + "a.zip")
    assert blobs.list(prefix) == [prefix + "b.zip"]
    assert blobs.stat(prefix + "a.zip") is None
    with pytest.raises(NotFound):
        blobs.get(prefix + "a.zip")


def test_cipher_roundtrip_and_context_binding(ports):
    cipher = ports.cipher()
    secret = b"refresh-token-" + bytes(range(40))
    sealed = cipher.encrypt(secret, "tenants/t1/quickbooks")
    assert secret not in sealed
    assert cipher.decrypt(sealed, "tenants/t1/quickbooks") == secret
    assert cipher.encrypt(secret, "tenants/t1/quickbooks") != sealed  # fresh key and nonce each time
    with pytest.raises(ValueError):
        cipher.decrypt(sealed, "tenants/t2/quickbooks")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(ValueError):
        cipher.decrypt(bytes(tampered), "tenants/t1/quickbooks")


def test_a_signed_url_reads_the_blob_with_range_until_it_expires(backend, marker):
    """GCS (the emulator): a V4 signed URL that serves the object and Range requests to anyone
    holding it; the local backend has none (the app signs and serves its own route)."""
    import datetime as dt
    from urllib.parse import parse_qs, urlsplit

    import requests

    blobs = backend.ports.blobs()
    data = b"RIFF" + bytes(range(256)) * 8
    path = f"tenants/t1/recordings/{marker}/RE2.wav"
    blobs.put(path, data, content_type="audio/wav")
    url = blobs.signed_url(path, expires=dt.timedelta(minutes=5), content_type="audio/wav",
                           download_as="CA1-RE2.wav")
    if backend.name == "local":
        assert url is None
        return
    query = parse_qs(urlsplit(url).query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"] and query["X-Goog-Expires"] == ["300"]
    assert query["response-content-disposition"] == ['attachment; filename="CA1-RE2.wav"']
    assert marker in urlsplit(url).path and "X-Goog-Signature" in query
    whole = requests.get(url, timeout=10)
    assert whole.status_code == 200 and whole.content == data
    part = requests.get(url, headers={"Range": "bytes=4-11"}, timeout=10)
    assert part.status_code == 206 and part.content == data[4:12]
    assert part.headers["Content-Range"] == f"bytes 4-11/{len(data)}"
    with pytest.raises(ValueError):
        blobs.signed_url("../escape.wav", expires=dt.timedelta(minutes=5))
