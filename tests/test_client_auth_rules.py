"""private_key_jwt client assertions (oauth/client_auth.py), each rule on its
own: which keys sign which algorithm, what a key that cannot sign is told,
and what the assertion says (RFC 7523 §3)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from astra_auth.oauth.client_auth import ClientKey, KeyProblem

NOW = 1_700_000_000
TOKEN_URL = "https://idp.example.com/oauth/token"


def pem(key: object, password: bytes | None = None) -> str:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                             serialization.PrivateFormat.PKCS8, encryption).decode()


@functools.cache
def keys() -> dict[str, object]:
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "p256": ec.generate_private_key(ec.SECP256R1()),
            "p384": ec.generate_private_key(ec.SECP384R1())}


def parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    def decode(piece: str) -> dict[str, object]:
        return json.loads(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)))

    header, payload, _ = token.split(".")
    return decode(header), decode(payload)


def assertion(key: ClientKey, alg: str = "RS256") -> str:
    return key.assertion(client_id="scanner-app", audience=TOKEN_URL, alg=alg, now=NOW + 0.7)


# ---------------------------------------------------------------------------
# Keys that cannot sign


@pytest.mark.parametrize(("text", "message"), [
    ("not a key at all", "the private key is not a PEM private key (-----BEGIN PRIVATE KEY-----)"),
    ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
     "the private key is not a PEM private key (-----BEGIN PRIVATE KEY-----)"),
    ("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
     "the private key is not a readable PEM private key"),
])
def test_a_text_that_is_no_private_key_is_said_to_be_none(text, message):
    with pytest.raises(KeyProblem) as caught:
        ClientKey(text).private_key()
    assert str(caught.value) == message


def test_an_encrypted_key_is_said_to_be_encrypted():
    with pytest.raises(KeyProblem) as caught:
        ClientKey(pem(keys()["rsa"], b"passphrase")).private_key()
    assert str(caught.value) == ("the private key is encrypted; store it without a passphrase "
                                 "(openssl pkey -in KEY -out key.pem)")


@pytest.mark.parametrize(("key", "alg", "message"), [
    ("p384", "ES256", "ES256 needs an EC P-256 private key"),
    ("rsa", "ES256", "ES256 needs an EC P-256 private key"),
    ("p256", "RS256", "RS256 needs an RSA private key"),
    ("p256", "PS256", "PS256 needs an RSA private key"),
])
def test_a_key_of_the_wrong_kind_does_not_sign(key, alg, message):
    with pytest.raises(KeyProblem) as caught:
        assertion(ClientKey(pem(keys()[key])), alg)
    assert str(caught.value) == message


@pytest.mark.parametrize(("key", "alg"), [("p256", "ES256"), ("rsa", "RS256"), ("rsa", "PS256")])
def test_a_key_of_the_right_kind_signs(key, alg):
    ClientKey(pem(keys()[key])).check_alg(alg)
    assert parts(assertion(ClientKey(pem(keys()[key])), alg))[0]["alg"] == alg


# ---------------------------------------------------------------------------
# What the assertion says


def test_the_assertion_names_the_client_the_audience_and_a_short_life():
    key = ClientKey(pem(keys()["rsa"]))
    header, claims = parts(assertion(key))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": key.kid()}
    jti = claims.pop("jti")
    assert claims == {"iss": "scanner-app", "sub": "scanner-app", "aud": TOKEN_URL,
                      "iat": NOW, "nbf": NOW, "exp": NOW + 60}
    assert isinstance(jti, str) and len(jti) == 32
    assert parts(assertion(key))[1]["jti"] != jti  # one per request


def test_with_a_certificate_the_assertion_names_its_sha256_thumbprint(tmp_path: Path):
    key = keys()["rsa"]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scanner-app")])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())  # type: ignore[attr-defined]
            .serial_number(1).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    path = tmp_path / "client.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = cert.public_bytes(serialization.Encoding.DER)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    header, _ = parts(assertion(ClientKey(pem(key), certificate=path), "PS256"))
    assert header == {"alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint}
