"""AWS Signature V4 (astra_auth.signing.sigv4), against AWS's published
examples and an API that signs every request again with botocore's own signer
(tests/servers/signed_api.py)."""

from __future__ import annotations

import calendar
import hashlib

import httpx
import pytest

from astra_auth.signing.message import Request, SigningError
from astra_auth.signing.sigv4 import AwsCredentials, SigV4Signer
from tests.servers.signed_api import AwsUser, Registry, SignedApi
from tests.servers.signing_client import send

KEY_ID = "AKIDASTRAEXAMPLE01"
SECRET = "sEcr3t/aws+Key=wJalrXUtnFEMIK7MDENG"
TOKEN_KEY_ID = "ASIAASTRAEXAMPLE02"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ=="


@pytest.fixture
def api(leaks):  # type: ignore[no-untyped-def]
    leaks.watch(SECRET, SESSION_TOKEN)
    registry = Registry(aws={KEY_ID: AwsUser(SECRET),
                             TOKEN_KEY_ID: AwsUser(SECRET, SESSION_TOKEN)})
    server = SignedApi(registry)
    yield server
    server.stop()


def signer(service: str = "execute-api", token: str | None = None,
           key_id: str = KEY_ID, secret: str = SECRET) -> SigV4Signer:
    return SigV4Signer(AwsCredentials(key_id, secret, token), "eu-west-1", service)


# ---------------------------------------------------------------------------
# AWS's own examples ("Signature Calculations for the Authorization Header",
# Amazon S3 API Reference): credentials, time and signatures as published.

S3_KEY = AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
S3_TIME = calendar.timegm((2013, 5, 24, 0, 0, 0))


@pytest.mark.parametrize(("url", "signature"), [
    ("https://examplebucket.s3.amazonaws.com/?lifecycle",
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    # The query in the other order than the canonical one: sorted when signed.
    ("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2",
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
])
def test_sigv4_gives_the_signatures_aws_publishes_for_s3(url: str, signature: str) -> None:
    update = SigV4Signer(S3_KEY, "us-east-1", "s3", clock=lambda: S3_TIME).sign(
        Request("GET", url))

    assert update["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}")
    assert update["X-Amz-Date"] == "20130524T000000Z"
    assert update["X-Amz-Content-SHA256"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert update["X-Amz-Security-Token"] is None


# ---------------------------------------------------------------------------
# Verified by botocore's signer on the receiving side


def test_sigv4_get_with_a_query_is_verified_by_botocore(api: SignedApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, signer(), "GET", f"{api.base}/prod/things?b=2&a=x%20y&a=1&flag")

    assert exchange.final.status_code == 200, exchange.final.text
    [checked] = api.checked()
    assert (checked.scheme, checked.ok, checked.target) == (
        "aws_sigv4", True, "/prod/things?b=2&a=x%20y&a=1&flag")
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date, " in dict(
        checked.headers)["Authorization"]


def test_sigv4_post_body_is_hashed_and_verified_by_botocore(api: SignedApi) -> None:
    body = b'{"name": "thing", "note": "\xc3\xa9t\xc3\xa9"}'
    with httpx.Client() as client:
        exchange = send(client, signer(), "POST", f"{api.base}/prod/things", content=body,
                        headers={"Content-Type": "application/json", "X-Amz-Target": "Things.Add"})

    assert exchange.final.status_code == 200, exchange.final.text
    [checked] = api.checked()
    headers = dict(checked.headers)
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    # content-type and the client's own x-amz-* header are under the signature.
    assert ("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, "
            in headers["Authorization"])


def test_sigv4_session_token_is_sent_signed_and_verified(api: SignedApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, signer(token=SESSION_TOKEN, key_id=TOKEN_KEY_ID), "GET",
                        f"{api.base}/prod/things")

    assert exchange.final.status_code == 200, exchange.final.text
    headers = dict(api.checked()[0].headers)
    assert headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert "x-amz-date;x-amz-security-token, " in headers["Authorization"]


@pytest.mark.parametrize("service", ["execute-api", "s3"])
def test_sigv4_non_ascii_path_is_verified_by_botocore(api: SignedApi, service: str) -> None:
    # execute-api encodes the path twice in the canonical request, s3 once.
    with httpx.Client() as client:
        exchange = send(client, signer(service), "GET", f"{api.base}/prod/café/€ uro")

    assert exchange.final.status_code == 200, exchange.final.text
    assert api.checked()[0].target == "/prod/caf%C3%A9/%E2%82%AC%20uro"


def test_sigv4_streamed_body_is_sent_as_unsigned_payload(api: SignedApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, signer("s3"), "PUT", f"{api.base}/bucket/big", content=b"x" * 10,
                        streamed=True)

    assert exchange.final.status_code == 200, exchange.final.text
    assert dict(api.checked()[0].headers)["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"


def test_sigv4_replaces_the_clients_own_signature_headers(api: SignedApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, signer(), "GET", f"{api.base}/prod/things", headers={
            "Authorization": "Bearer stale", "X-Amz-Date": "20000101T000000Z",
            "X-Amz-Security-Token": "not-mine"})

    assert exchange.final.status_code == 200, exchange.final.text
    names = [name.lower() for name, _ in api.checked()[0].headers]
    assert names.count("authorization") == 1
    assert "x-amz-security-token" not in names


def test_sigv4_wrong_secret_is_refused_by_the_verifier(api: SignedApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, signer(secret="not-the-secret"), "GET", f"{api.base}/prod/things")

    assert exchange.final.status_code == 401
    assert exchange.final.json()["reason"] == "signature does not match"
    # Nothing in a refused signature can be answered: one request, no retry.
    assert len(exchange.responses) == 1


def test_sigv4_signature_of_another_body_is_refused(api: SignedApi) -> None:
    with httpx.Client() as client:
        request = client.build_request("POST", f"{api.base}/prod/things", content=b"signed")
        from tests.servers.signing_client import apply, neutral

        apply(request, signer().sign(neutral(request)))
        request.stream = httpx.ByteStream(b"sneaky")
        response = client.send(request)

    assert response.status_code == 401
    assert response.json()["reason"] == "x-amz-content-sha256 is not the body's hash"


@pytest.mark.parametrize(("region", "service", "message"), [
    ("EU-WEST-1", "execute-api", "The AWS region 'EU-WEST-1' is not a valid name"),
    ("eu-west-1", "", "The AWS service '' is not a valid name"),
])
def test_sigv4_refuses_a_region_or_service_aws_would_not_know(region: str, service: str,
                                                              message: str) -> None:
    with pytest.raises(SigningError) as raised:
        SigV4Signer(AwsCredentials(KEY_ID, SECRET), region, service)
    assert str(raised.value).startswith(message)


def test_sigv4_error_names_no_secret() -> None:
    with pytest.raises(SigningError) as raised:
        SigV4Signer(AwsCredentials(KEY_ID, "caf\u00e9-s3cret-value"), "eu-west-1", "s3")
    assert str(raised.value) == "The AWS secret access key must be printable ASCII."
    assert "s3cret" not in repr(AwsCredentials(KEY_ID, "caf\u00e9-s3cret-value"))
