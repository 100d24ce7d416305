"""DPoP (astra_auth.signing.dpop) against node oidc-provider with features.dPoP and
requireNonce (tests/oidc/dpop.mjs), and an API that checks each proof with
Authlib's JOSE (tests/servers/dpop_api.py).  The token request is driven here
with the dpop module and httpx, as the grant will drive it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from astra_auth.signing.dpop import (
    ALGORITHMS,
    DpopKey,
    DpopProver,
    access_token_hash,
    generate_key,
    htu,
    wants_nonce,
)
from astra_auth.signing.message import InvalidKey, Request, Response, SigningError
from tests.conftest import DPOP_RESOURCE as RESOURCE
from tests.conftest import DPOP_SECRET as CLIENT_SECRET
from tests.conftest import DpopProvider as Provider
from tests.servers.dpop_api import DpopApi
from tests.servers.signing_client import answer, send


@pytest.fixture
def provider(dpop_provider):  # type: ignore[no-untyped-def]
    return dpop_provider


@pytest.fixture(scope="module")
def keys() -> dict[str, DpopKey]:
    return {algorithm: DpopKey(generate_key(algorithm), algorithm) for algorithm in ALGORITHMS}


@dataclass
class TokenRun:
    responses: list[httpx.Response]

    @property
    def token(self) -> dict[str, object]:
        return self.responses[-1].json()  # type: ignore[no-any-return]


def token_request(provider: Provider, prover: DpopProver) -> TokenRun:
    """client_credentials with a proof, and once more when the provider asks for a nonce."""
    form = {"grant_type": "client_credentials", "client_id": "dpop-scanner",
            "client_secret": CLIENT_SECRET, "scope": "read:things"}
    request = Request("POST", provider.token_url)
    responses = []
    with httpx.Client() as client:
        update = prover.headers(request)
        while True:
            response = client.post(provider.token_url, data=form,
                                   headers={k: v for k, v in update.items() if v is not None})
            responses.append(response)
            retry = prover.challenge(request, answer(response))
            if retry is None or len(responses) == 2:
                return TokenRun(responses)
            update = retry


def claims_of(jwt: str) -> dict[str, object]:
    import base64
    import json

    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dpop_token_request_answers_the_providers_nonce_and_gets_a_bound_token(
        algorithm: str, keys: dict[str, DpopKey], provider: Provider) -> None:
    run = token_request(provider, DpopProver(keys[algorithm]))

    assert [r.status_code for r in run.responses] == [400, 200]
    assert run.responses[0].json()["error"] == "use_dpop_nonce"
    assert run.token["token_type"] == "DPoP"
    # The provider bound the token to the thumbprint it computed of the proof's key.
    assert claims_of(str(run.token["access_token"]))["cnf"] == {"jkt": keys[algorithm].thumbprint}


@pytest.fixture
def api(provider: Provider):  # type: ignore[no-untyped-def]
    jwks = httpx.get(f"{provider.issuer}/jwks").json()
    server = DpopApi(jwks, RESOURCE)
    yield server
    server.stop()


def test_dpop_api_requests_carry_a_fresh_proof_and_answer_the_apis_nonce(
        keys: dict[str, DpopKey], provider: Provider, api: DpopApi) -> None:
    prover = DpopProver(keys["ES256"])
    token = str(token_request(provider, prover).token["access_token"])
    signer = prover.for_token(token)
    with httpx.Client() as client:
        first = send(client, signer, "GET", f"{api.base}/things?page=2")
        second = send(client, signer, "POST", f"{api.base}/things", json={"name": "x"})
        api.state.rotate_nonce()
        third = send(client, signer, "GET", f"{api.base}/things")

    # The API's first answer asks for its nonce: answered once, then every
    # request carries the latest nonce it gave.
    assert [r.status_code for r in first.responses] == [401, 200]
    assert first.responses[0].headers["WWW-Authenticate"].endswith('error="use_dpop_nonce"')
    assert [r.status_code for r in second.responses] == [200]
    assert [r.status_code for r in third.responses] == [401, 200]
    checked = api.checked()
    assert [(c.ok, c.reason) for c in checked] == [
        (False, "nonce"), (True, ""), (True, ""), (False, "nonce"), (True, "")]
    good = [c.claims for c in checked if c.ok]
    assert [c["htu"] for c in good] == [f"{api.base}/things"] * 3
    assert [c["htm"] for c in good] == ["GET", "POST", "GET"]
    assert {c["ath"] for c in good} == {access_token_hash(token)}
    assert len({c["jti"] for c in good}) == 3
    assert first.sent[-1].headers["Authorization"] == f"DPoP {token}"
    # The provider's nonce and the API's are kept apart.
    assert prover.nonce(provider.token_url) != prover.nonce(api.base)


def test_dpop_proof_replayed_is_refused_by_the_api(keys: dict[str, DpopKey], provider: Provider,
                                                   api: DpopApi) -> None:
    prover = DpopProver(keys["ES256"])
    token = str(token_request(provider, prover).token["access_token"])
    with httpx.Client() as client:
        exchange = send(client, prover.for_token(token), "GET", f"{api.base}/things")
        replay = client.send(client.build_request("GET", f"{api.base}/things",
                                                  headers=dict(exchange.sent[-1].headers)))

    assert exchange.final.status_code == 200
    assert (replay.status_code, replay.json()["reason"]) == (401, "jti replayed")


def test_dpop_proof_by_another_key_is_refused_by_the_api(keys: dict[str, DpopKey],
                                                         provider: Provider, api: DpopApi) -> None:
    token = str(token_request(provider, DpopProver(keys["ES256"])).token["access_token"])
    with httpx.Client() as client:
        exchange = send(client, DpopProver(keys["EdDSA"]).for_token(token), "GET",
                        f"{api.base}/things")

    assert exchange.final.status_code == 401
    assert api.checked()[-1].reason == "cnf.jkt is not the proof key's thumbprint"


# ---------------------------------------------------------------------------
# Plain values


def test_dpop_htu_drops_query_and_fragment() -> None:
    assert htu("https://api.example.com/a/b?x=1#f") == "https://api.example.com/a/b"
    assert htu("https://api.example.com") == "https://api.example.com/"


def test_dpop_ath_is_the_tokens_sha256() -> None:
    # base64url(SHA-256("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")), RFC 9449 §7.1's example.
    assert access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == (
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")


def test_dpop_proof_has_rfc_9449_header_and_claims(keys: dict[str, DpopKey]) -> None:
    key = keys["ES256"]
    proof = key.proof("post", "https://api.example.com/things?x=1", now=1700000000.7,
                      access_token="tok", nonce="n-1")
    import base64
    import json

    head = proof.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    assert header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk}
    assert "d" not in key.jwk
    claims = claims_of(proof)
    assert {k: v for k, v in claims.items() if k != "jti"} == {
        "htm": "POST", "htu": "https://api.example.com/things", "iat": 1700000000,
        "ath": access_token_hash("tok"), "nonce": "n-1"}


@pytest.mark.parametrize(("response", "wanted"), [
    (Response(400, (("DPoP-Nonce", "n"),), b'{"error":"use_dpop_nonce"}'), True),
    (Response(400, (), b'{"error":"invalid_dpop_proof"}'), False),
    (Response(401, (("WWW-Authenticate", 'DPoP error="use_dpop_nonce"'),)), True),
    (Response(401, (("WWW-Authenticate", 'Bearer realm="a", DPoP algs="ES256", '
                                         'error="use_dpop_nonce"'),)), True),
    (Response(401, (("WWW-Authenticate", 'DPoP error="invalid_token"'),)), False),
    (Response(401, (("WWW-Authenticate", 'Bearer error="use_dpop_nonce"'),)), False),
    (Response(400, (), b"<html>not json</html>"), False),
])
def test_dpop_recognises_a_request_for_a_nonce(response: Response, wanted: bool) -> None:
    assert wants_nonce(response) is wanted


def test_dpop_nonce_error_without_a_nonce_is_not_retried(keys: dict[str, DpopKey]) -> None:
    prover = DpopProver(keys["ES256"])
    refused = Response(401, (("WWW-Authenticate", 'DPoP error="use_dpop_nonce"'),))
    assert prover.challenge(Request("GET", "https://api.example.com/"), refused) is None


@pytest.mark.parametrize(("algorithm", "other", "message"), [
    ("ES256", "EdDSA", "The DPoP key is not a readable PEM private key for ES256."),
    ("EdDSA", "ES256", "The DPoP key is not a readable PEM private key for EdDSA."),
])
def test_dpop_key_of_another_kind_is_invalid(algorithm: str, other: str, message: str) -> None:
    with pytest.raises(InvalidKey) as raised:
        DpopKey(generate_key(other), algorithm)
    assert str(raised.value) == message


def test_dpop_unknown_algorithm_is_refused() -> None:
    with pytest.raises(SigningError) as raised:
        generate_key("HS256")
    assert str(raised.value) == "Unknown DPoP algorithm 'HS256': one of ES256, PS256, RS256, EdDSA."
