"""HTTP Message Signatures (astra_auth.signing.http_signature), against RFC 9421's
own test vectors and the `http-message-signatures` package's verifier in an API
(tests/servers/signed_api.py)."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from http_message_signatures import algorithms

from astra_auth.signing.http_signature import (
    ALGORITHMS,
    HttpSignatureSigner,
    SignatureSettings,
    generate_key,
    public_jwk,
    public_key_pem,
)
from astra_auth.signing.message import BodyRequired, InvalidKey, Request
from tests.servers.signed_api import Registry, SignedApi
from tests.servers.signing_client import apply, neutral, send

# ---------------------------------------------------------------------------
# RFC 9421 Appendix B: the keys (B.1.4, B.1.5), the test request (B.2) and the
# signatures of the two deterministic algorithms (B.2.5 hmac-sha256, B.2.6 ed25519).

TEST_KEY_ED25519 = ("-----BEGIN PRIVATE KEY-----\n"
                    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
                    "-----END PRIVATE KEY-----\n")
TEST_SHARED_SECRET = base64.b64decode(
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==")
TEST_REQUEST = Request(
    "POST", "https://example.com/foo?param=Value&Pet=dog",
    (("Host", "example.com"), ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
     ("Content-Type", "application/json"),
     ("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiY"
                        "llu7BNNyealdVLvRwEmTHWXvJwew==:"),
     ("Content-Length", "18")),
    b'{"hello": "world"}')
CREATED = 1618884473


def test_http_signature_gives_rfc_9421_b_2_6_ed25519_signature() -> None:
    settings = SignatureSettings("test-key-ed25519", "ed25519",
                                 ("date", "@method", "@path", "@authority", "content-type",
                                  "content-length"),
                                 label="sig-b26", lifetime=None, include_alg=False)
    update = HttpSignatureSigner(settings, TEST_KEY_ED25519, clock=lambda: CREATED).sign(
        TEST_REQUEST)

    assert update["Signature-Input"] == (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"')
    assert update["Signature"] == ("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02"
                                   "Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:")


def test_http_signature_gives_rfc_9421_b_2_5_hmac_signature() -> None:
    settings = SignatureSettings("test-shared-secret", "hmac-sha256",
                                 ("date", "@authority", "content-type"),
                                 label="sig-b25", lifetime=None, include_alg=False)
    update = HttpSignatureSigner(settings, TEST_SHARED_SECRET, clock=lambda: CREATED).sign(
        TEST_REQUEST)

    assert update["Signature-Input"] == (
        'sig-b25=("date" "@authority" "content-type");created=1618884473'
        ';keyid="test-shared-secret"')
    assert update["Signature"] == "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"


def test_http_signature_content_digest_is_rfc_9530s_example() -> None:
    # RFC 9530 §2's example: {"hello": "world"} with sha-256.
    settings = SignatureSettings("k", "hmac-sha256", ("content-digest",))
    update = HttpSignatureSigner(settings, TEST_SHARED_SECRET).sign(TEST_REQUEST)

    assert update["Content-Digest"] == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_http_signature_ed25519_public_key_is_rfc_9421s() -> None:
    # RFC 9421 B.1.4's public key, as targets show will give it to register.
    assert public_key_pem("ed25519", TEST_KEY_ED25519) == (
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n"
        "-----END PUBLIC KEY-----\n")
    assert public_jwk("ed25519", TEST_KEY_ED25519, "test-key-ed25519") == {
        "kty": "OKP", "crv": "Ed25519", "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs",
        "kid": "test-key-ed25519"}
    assert public_key_pem("hmac-sha256", TEST_SHARED_SECRET) is None


# ---------------------------------------------------------------------------
# Verified by http-message-signatures' HTTPMessageVerifier on the receiving side

VERIFIER_ALGORITHMS = {
    "ed25519": algorithms.ED25519,
    "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
    "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
    "hmac-sha256": algorithms.HMAC_SHA256,
}


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {algorithm: generate_key(algorithm) for algorithm in ALGORITHMS}


@pytest.fixture(scope="module")
def public_keys(keys: dict[str, str]) -> dict[str, object]:
    """What the API was given to verify with: the public keys, the shared secret."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return {algorithm: key.encode() if algorithm == "hmac-sha256"
            else load_pem_public_key(str(public_key_pem(algorithm, key)).encode())
            for algorithm, key in keys.items()}


@pytest.fixture
def api(keys: dict[str, str], public_keys: dict[str, object], leaks):  # type: ignore[no-untyped-def]
    registry = Registry(required=("@method", "@target-uri"))
    for algorithm, key in keys.items():
        # The secret itself, or a stretch of the PEM key's material (the guard
        # looks for any 8 characters of it, in every encoding: the whole key
        # would cost it seconds).
        leaks.watch(key if algorithm == "hmac-sha256" else key.splitlines()[2])
        registry.http_keys[f"key-{algorithm}"] = (VERIFIER_ALGORITHMS[algorithm],
                                                  public_keys[algorithm])
    server = SignedApi(registry)
    yield server
    server.stop()


def signer(algorithm: str, keys: dict[str, str], **settings: object) -> HttpSignatureSigner:
    return HttpSignatureSigner(SignatureSettings(f"key-{algorithm}", algorithm, **settings),  # type: ignore[arg-type]
                               keys[algorithm])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_http_signature_post_is_verified_with_its_content_digest(algorithm: str, keys, api) -> None:  # type: ignore[no-untyped-def]
    body = b'{"name": "thing"}'
    with httpx.Client() as client:
        exchange = send(client, signer(algorithm, keys), "POST", f"{api.base}/things?x=1",
                        content=body, headers={"Content-Type": "application/json"})

    assert exchange.final.status_code == 200, exchange.final.text
    [checked] = api.checked()
    headers = dict(checked.headers)
    assert re.fullmatch(
        rf'sig1=\("@method" "@target-uri" "content-digest" "content-type"\);created=\d+'
        rf';keyid="key-{algorithm}";alg="{algorithm}";expires=\d+', headers["Signature-Input"])
    created, expires = map(int, re.findall(r"(?:created|expires)=(\d+)", headers[
        "Signature-Input"]))
    assert expires - created == 300


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_http_signature_get_covers_only_what_it_has(algorithm: str, keys, api) -> None:  # type: ignore[no-untyped-def]
    # No body and no content-type: the signature covers the components that exist.
    with httpx.Client() as client:
        exchange = send(client, signer(algorithm, keys), "GET", f"{api.base}/things/1")

    assert exchange.final.status_code == 200, exchange.final.text
    headers = dict(api.checked()[0].headers)
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri");created=')
    assert "Content-Digest" not in headers


def test_http_signature_of_another_body_is_refused_by_the_verifier(keys, api) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client() as client:
        request = client.build_request("POST", f"{api.base}/things", content=b"signed",
                                       headers={"Content-Type": "text/plain"})
        apply(request, signer("ed25519", keys).sign(neutral(request)))
        request.stream = httpx.ByteStream(b"sneaky")
        response = client.send(request)

    assert response.status_code == 401
    assert response.json()["reason"] == (
        "invalid signature: Content-Digest does not match the message body")


def test_http_signature_with_another_key_is_refused_by_the_verifier(keys, api) -> None:  # type: ignore[no-untyped-def]
    other = HttpSignatureSigner(SignatureSettings("key-ed25519", "ed25519"),
                                generate_key("ed25519"))
    with httpx.Client() as client:
        exchange = send(client, other, "GET", f"{api.base}/things")

    assert exchange.final.status_code == 401
    assert exchange.final.json()["reason"].startswith("invalid signature")
    assert len(exchange.responses) == 1


def test_http_signature_replaces_the_clients_own_signature(keys, api) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client() as client:
        exchange = send(client, signer("ed25519", keys), "POST", f"{api.base}/things",
                        content=b"x", headers={"Signature": "old=:AAAA:",
                                               "Signature-Input": 'old=();created=1',
                                               "Content-Digest": "sha-256=:AAAA:"})

    assert exchange.final.status_code == 200, exchange.final.text
    headers = api.checked()[0].headers
    assert [k.lower() for k, _ in headers].count("signature") == 1
    assert dict(headers)["Signature"].startswith("sig1=:")


def test_http_signature_streamed_body_cannot_be_digested(keys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BodyRequired) as raised:
        signer("ed25519", keys).sign(Request("POST", "https://api.example.com/up", body=None))
    assert str(raised.value) == ("The signature covers content-digest, but the body streams "
                                 "past what can be held to digest it.")


def test_http_signature_without_content_digest_needs_no_body(keys) -> None:  # type: ignore[no-untyped-def]
    plain = signer("ed25519", keys, components=("@method", "@target-uri"))
    assert plain.needs_body is False
    update = plain.sign(Request("POST", "https://api.example.com/up", body=None))
    assert str(update["Signature-Input"]).startswith('sig1=("@method" "@target-uri");')


@pytest.mark.parametrize(("algorithm", "key", "message"), [
    ("ed25519", "ecdsa-p256-sha256", "ed25519 needs an Ed25519 key; this is another kind of key."),
    ("rsa-pss-sha512", "ed25519",
     "rsa-pss-sha512 needs an RSA key of at least 2048 bits; this is another kind of key."),
    ("hmac-sha256", "ed25519", "hmac-sha256 needs a shared secret, not a PEM key."),
])
def test_http_signature_key_that_does_not_fit_is_invalid(algorithm: str, key: str, message: str,
                                                        keys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidKey) as raised:
        HttpSignatureSigner(SignatureSettings("k", algorithm), keys[key])
    assert str(raised.value) == message


def test_http_signature_unreadable_key_names_no_key_material() -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQ\n" \
             "-----END PRIVATE KEY-----\n"
    with pytest.raises(InvalidKey) as raised:
        HttpSignatureSigner(SignatureSettings("k", "ed25519"), broken)
    assert str(raised.value) == "The key is not a readable, unencrypted PEM private key."
