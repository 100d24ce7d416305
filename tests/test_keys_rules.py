"""Keys at the moment they sign: an RSA key under 2048 bits never signs an
RS256 or PS256 token, assertion or proof, nor an RSA HTTP message signature,
whatever put it into the keyring (a hand-made entry, an older release, a
variable)."""

from __future__ import annotations

import functools

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from astra_auth.storage.config import Target

NOW = 1_700_000_000


@functools.cache
def rsa_pem(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def small(leaks) -> str:  # type: ignore[no-untyped-def]
    leaks.watch(rsa_pem(1024))
    return rsa_pem(1024)


@pytest.fixture
def big(leaks) -> str:  # type: ignore[no-untyped-def]
    leaks.watch(rsa_pem(2048))
    return rsa_pem(2048)


# ---------------------------------------------------------------------------
# JWTs signed here (auth type jwt)


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_a_jwt_is_not_signed_with_a_1024_bit_rsa_key(small, alg):
    from astra_auth.credentials.jwt import load_key
    from astra_auth.credentials.secrets import InvalidKey

    with pytest.raises(InvalidKey) as caught:
        load_key(alg, small, Target(name="api"))
    assert caught.value.failure.category == "invalid_key"
    assert caught.value.failure.message == (
        f"The signing key of api cannot be used with {alg}: {alg} needs an RSA key of at "
        "least 2048 bits (this one has 1024).")


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_a_2048_bit_rsa_key_signs_a_jwt(big, alg):
    from astra_auth.credentials.jwt import load_key

    assert load_key(alg, big, Target(name="api")).raw_value.key_size == 2048


def test_token_with_a_1024_bit_jwt_key_in_the_keyring_is_invalid_key(cli, small):
    cli.config_path.parent.mkdir(parents=True)
    cli.config_path.write_text(
        'version = 1\n[targets.api]\nurl = "https://api.example.com"\nauth_type = "jwt"\n'
        '[targets.api.jwt]\nalgorithm = "RS256"\nclaims = { sub = "scanner" }\n'
        'lifetime = 300\nheader_name = "Authorization"\nprefix = "Bearer"\n')
    cli.store.data["api:signing_key"] = small
    result = cli("token", "api", expect=3)
    assert result.out == ""
    assert result.err.startswith(
        "error: invalid_key: The signing key of api cannot be used with RS256: RS256 needs an "
        "RSA key of at least 2048 bits (this one has 1024).")


# ---------------------------------------------------------------------------
# private_key_jwt client assertions


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_a_client_assertion_is_not_signed_with_a_1024_bit_rsa_key(small, alg):
    from astra_auth.oauth.client_auth import ClientKey, KeyProblem

    with pytest.raises(KeyProblem) as caught:
        ClientKey(small).assertion(client_id="scanner-app",
                                   audience="https://idp.example.com/token", alg=alg, now=NOW)
    assert str(caught.value) == f"{alg} needs an RSA key of at least 2048 bits (this one has 1024)"


def test_a_client_assertion_is_signed_with_a_2048_bit_rsa_key(big):
    from astra_auth.oauth.client_auth import ClientKey

    assertion = ClientKey(big).assertion(client_id="scanner-app",
                                         audience="https://idp.example.com/token",
                                         alg="PS256", now=NOW)
    assert assertion.count(".") == 2


# ---------------------------------------------------------------------------
# DPoP proofs and HTTP message signatures


@pytest.mark.filterwarnings("error")  # nothing but our own words: no library warning
@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_a_dpop_proof_is_not_signed_with_a_1024_bit_rsa_key(small, alg):
    from astra_auth.signing.dpop import DpopKey
    from astra_auth.signing.message import InvalidKey

    with pytest.raises(InvalidKey) as caught:
        DpopKey(small, alg)
    assert str(caught.value) == (
        f"{alg} needs an RSA key of at least 2048 bits (private); this is another key.")


def test_a_dpop_proof_is_signed_with_a_2048_bit_rsa_key(big):
    from astra_auth.signing.dpop import DpopKey

    proof = DpopKey(big, "PS256").proof("GET", "https://api.example.com/x", now=NOW)
    assert proof.count(".") == 2


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "rsa-v1_5-sha256"])
def test_an_http_signature_is_not_made_with_a_1024_bit_rsa_key(small, alg):
    from astra_auth.signing.http_signature import load_key
    from astra_auth.signing.message import InvalidKey

    with pytest.raises(InvalidKey) as caught:
        load_key(alg, small)
    assert str(caught.value) == (
        f"{alg} needs an RSA key of at least 2048 bits; this is another kind of key.")


def test_an_http_signature_key_of_2048_bits_is_taken(big):
    from astra_auth.signing.http_signature import load_key

    assert load_key("rsa-pss-sha512", big).key_size == 2048
