"""The types whose every request is signed, end to end: aws_sigv4,
http_signature, digest and oauth2 with DPoP, configured as a user does, then
used through the proxy, `auth_for` and test-token against verifiers nobody
here wrote: botocore's own SigV4 signer and http-message-signatures'
verifier (tests/servers/signed_api.py), Flask-HTTPAuth and lighttpd
(tests/servers/digest_api.py), oidc-provider issuing DPoP-bound tokens and an
API checking each proof with Authlib (tests/oidc/dpop.mjs,
tests/servers/dpop_api.py).  tests/test_scanners.py runs Schemathesis
through them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from http_message_signatures import algorithms

from astra_auth.signing.http_signature import generate_key, public_key_pem
from tests.conftest import DPOP_RESOURCE, DPOP_SECRET
from tests.fakes import Clock, make_deps
from tests.proxies import client
from tests.servers.digest_api import DigestApi
from tests.servers.dpop_api import DpopApi
from tests.servers.signed_api import AwsUser, Registry, SignedApi

KEY_ID = "AKIDASTRAEXAMPLE01"
SECRET = "sEcr3t/aws+Key=wJalrXUtnFEMIK7MDENG"
TOKEN_KEY_ID = "ASIAASTRAEXAMPLE02"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ=="
DIGEST_USER = "scanner"
DIGEST_PASSWORD = "Digest-pa55:wörd"
HMAC_SECRET = "Xw7kP2mQ9rT4vB6nL1cJ8hF3zD5gS0aE"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _watch(leaks):  # type: ignore[no-untyped-def]
    leaks.watch(SECRET, SESSION_TOKEN, DIGEST_PASSWORD, HMAC_SECRET)


def auth(cli, name: str, clock=None, environ=None):  # type: ignore[no-untyped-def]
    """`auth_for`'s httpx.Auth for a target `cli` configured, on its keyring."""
    from astra_auth.credentials.interface import SourceSettings, open_source
    from astra_auth.integrations.httpx_auth import AstraAuth
    from astra_auth.storage.lookup import load_target

    deps = make_deps(cli.config_path, secrets=cli.store, clock=clock, environ=environ)
    target = load_target(deps, name)
    assert target.url is not None
    return AstraAuth(open_source(target, deps, SourceSettings()), target.url)


# ---------------------------------------------------------------------------
# AWS Signature V4, verified by botocore's signer on the API's side


@pytest.fixture
def aws_api() -> Iterator[SignedApi]:
    server = SignedApi(Registry(aws={KEY_ID: AwsUser(SECRET),
                                     TOKEN_KEY_ID: AwsUser(SECRET, SESSION_TOKEN)},
                                region="eu-west-1", service="execute-api"))
    yield server
    server.stop()


def configure_aws(cli, api: SignedApi, *, name: str = "aws", key_id: str = TOKEN_KEY_ID,
                  region: str = "eu-west-1", token: bool = True) -> None:  # type: ignore[no-untyped-def]
    flags = ["--secret-access-key-stdin"] + (["--session-token-stdin"] if token else [])
    cli("configure", name, "--auth-type", "aws_sigv4", "--url", f"{api.base}/prod",
        "--access-key-id", key_id, "--region", region, "--service", "execute-api", *flags,
        stdin=SECRET + "\n" + (SESSION_TOKEN + "\n" if token else ""))


def test_aws_sigv4_by_flags_keeps_both_secrets_in_the_keyring(cli, aws_api):
    configure_aws(cli, aws_api)
    import tomllib

    saved = tomllib.loads(cli.config_path.read_text())["targets"]["aws"]
    assert saved == {"url": f"{aws_api.base}/prod", "auth_type": "aws_sigv4",
                     "aws_sigv4": {"access_key_id": TOKEN_KEY_ID, "region": "eu-west-1",
                                   "service": "execute-api", "secrets": "keyring"}}
    assert cli.store.data == {"aws:secret_access_key": SECRET,
                              "aws:session_token": SESSION_TOKEN}


def test_aws_sigv4_a_new_key_without_a_session_token_drops_the_old_one(cli, aws_api):
    configure_aws(cli, aws_api)
    cli("configure", "aws", "--access-key-id", KEY_ID, "--secret-access-key-stdin",
        stdin=SECRET + "\n")
    assert cli.store.data == {"aws:secret_access_key": SECRET}
    # A change that leaves the key pair alone keeps its session token.
    configure_aws(cli, aws_api)
    cli("configure", "aws", "--region", "eu-west-1")
    assert cli.store.data["aws:session_token"] == SESSION_TOKEN


def test_aws_sigv4_through_auth_for_query_body_session_token_and_non_ascii_path(cli, aws_api):
    configure_aws(cli, aws_api)
    with httpx.Client(auth=auth(cli, "aws")) as c:
        got = [c.get(f"{aws_api.base}/prod/things?b=2&a=x%20y&a=1&flag"),
               c.post(f"{aws_api.base}/prod/things", json={"name": "é"}),
               c.get(f"{aws_api.base}/prod/th%C3%A9/%E2%9C%93?q=%2B%20")]
    assert [r.status_code for r in got] == [200, 200, 200], [r.text for r in got]
    checked = aws_api.checked()
    assert [(c.scheme, c.ok) for c in checked] == [("aws_sigv4", True)] * 3
    assert [c.target for c in checked] == ["/prod/things?b=2&a=x%20y&a=1&flag", "/prod/things",
                                           "/prod/th%C3%A9/%E2%9C%93?q=%2B%20"]
    headers = dict(checked[1].headers)
    assert headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert headers["X-Amz-Content-SHA256"] == json.loads(got[1].text)["body_sha256"]


def test_aws_sigv4_through_the_proxy(proc, proxies, aws_api):
    proc("configure", "aws", "--auth-type", "aws_sigv4", "--url", f"{aws_api.base}/prod",
         "--access-key-id", TOKEN_KEY_ID, "--region", "eu-west-1", "--service", "execute-api",
         "--secrets", "env")
    running = proxies.start("aws=0", env={"ASTRA_AUTH_AWS_SECRET_ACCESS_KEY": SECRET,
                                          "ASTRA_AUTH_AWS_SESSION_TOKEN": SESSION_TOKEN})
    with client() as c:
        got = [c.get(running.url("aws", "/things?page=2&q=a%2Fb"),
                     headers={"Authorization": "Bearer forged", "X-Amz-Date": "19990101T000000Z"}),
               c.post(running.url("aws", "/things"), content=b'{"name":"x"}',
                      headers={"Content-Type": "application/json"}),
               c.delete(running.url("aws", "/th%C3%A9ngs/%C3%BC"))]
    assert [r.status_code for r in got] == [200, 200, 200], [r.text for r in got]
    checked = aws_api.checked()
    assert [(c.method, c.target, c.ok) for c in checked] == [
        ("GET", "/prod/things?page=2&q=a%2Fb", True), ("POST", "/prod/things", True),
        ("DELETE", "/prod/th%C3%A9ngs/%C3%BC", True)]
    # What the scanner sent of its own is replaced: one signature, the proxy's.
    assert [k.lower() for k, _ in checked[0].headers].count("authorization") == 1
    assert dict(checked[0].headers)["X-Amz-Date"] != "19990101T000000Z"


def test_aws_sigv4_a_body_too_large_to_hold_goes_with_an_unsigned_payload(proc, proxies,
                                                                           aws_api):
    proc("configure", "aws", "--auth-type", "aws_sigv4", "--url", aws_api.base,
         "--access-key-id", KEY_ID, "--region", "eu-west-1", "--service", "execute-api",
         "--secrets", "env")
    running = proxies.start("aws=0", env={"ASTRA_AUTH_SECRET_ACCESS_KEY": SECRET})
    body = b"x" * (2 * MIB)
    with client() as c:
        small = c.put(running.url("aws", "/blob"), content=b"y" * MIB)
        large = c.put(running.url("aws", "/blob"), content=body)
    assert (small.status_code, large.status_code) == (200, 200), large.text
    small_sent, large_sent = (dict(c.headers) for c in aws_api.checked())
    assert small_sent["X-Amz-Content-SHA256"] == json.loads(small.text)["body_sha256"]
    assert large_sent["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert json.loads(large.text)["body_sha256"] == __import__("hashlib").sha256(
        body).hexdigest()


def test_aws_sigv4_test_token_checks_the_api_and_names_both_secrets(cli, aws_api):
    configure_aws(cli, aws_api)
    result = cli("test-token", "aws", "--json")
    data = json.loads(result.out)
    assert (data["ok"], data["auth_type"], data["grant_type"], data["token_url"]) == (
        True, "aws_sigv4", None, None)
    assert data["secret_sources"] == {"secret_access_key": "keyring",
                                      "session_token": "keyring"}
    assert (data["api"]["http_status"], data["api"]["ok"]) == (200, True)
    assert data["token_type"] == "AWS4-HMAC-SHA256"


def test_aws_sigv4_test_token_panel_says_each_request_is_signed_anew(cli, aws_api):
    configure_aws(cli, aws_api)
    result = cli("test-token", "aws")
    assert re.search(r"│ Expires in +— \(signed anew for each request\) +│", result.out), result.out
    assert "not stated" not in result.err + result.out


def test_aws_sigv4_wrong_region_is_explained_by_test_token(cli, aws_api):
    configure_aws(cli, aws_api, region="us-east-1")
    result = cli("test-token", "aws", "--json", expect=7)
    data = json.loads(result.out)
    assert data["error"]["category"] == "api_unauthorized"
    assert data["api"]["http_status"] == 403
    assert data["hints"][0] == (
        "AWS says the region is wrong: the request was signed for 'us-east-1'. Sign for the "
        "API's own region (the one in its URL, e.g. execute-api.eu-west-1.amazonaws.com): "
        "astra-auth configure aws --region REGION --no-input")


def test_aws_sigv4_clock_skew_is_explained_from_the_apis_date(cli, aws_api):
    configure_aws(cli, aws_api)
    import time

    late = Clock(time.time() - 900)
    result = cli("test-token", "aws", "--json", expect=7, clock=late)
    hints = json.loads(result.out)["hints"]
    assert re.fullmatch(r"This machine's clock is (89\d|9\d\d) seconds behind the API's \(its Date "
                        r"header\): a signature or proof made with it is refused as expired or "
                        r"not yet valid\. Set the clock right \(NTP\) where astra-auth runs\.",
                        hints[0]), hints
    assert hints[1] == ("AWS says the signature's time (X-Amz-Date) is more than 5 minutes "
                        "from its own: set this machine's clock right (NTP).")


def test_aws_sigv4_unknown_access_key_is_refused_by_the_api(cli, aws_api):
    cli("configure", "aws", "--auth-type", "aws_sigv4", "--url", aws_api.base,
        "--access-key-id", "AKIDNOBODYKNOWS0", "--region", "eu-west-1", "--service",
        "execute-api", "--secret-access-key-stdin", stdin=SECRET + "\n")
    data = json.loads(cli("test-token", "aws", "--json", expect=7).out)
    assert data["api"]["http_status"] == 401
    assert data["hints"][0].startswith("Check the key and where it signs for: access key "
                                       "'AKIDNOBODYKNOWS0', region 'eu-west-1', service "
                                       "'execute-api'")


@pytest.mark.parametrize("command", [["token", "aws"], ["token", "aws", "--format", "json"],
                                     ["exec", "aws", "--", "true"]])
def test_token_and_exec_refuse_a_signed_type_naming_proxy_and_auth_for(cli, aws_api, command):
    configure_aws(cli, aws_api)
    result = cli(*command, expect=2)
    assert (f"{command[0]}: target 'aws' uses AWS Signature V4: each request carries its own "
            "signature, so there is no credential to hand over") in result.err
    assert "astra-auth proxy aws" in result.err
    assert "astra_auth.auth_for('aws')" in result.err
    assert result.out == ""


# ---------------------------------------------------------------------------
# HTTP Message Signatures, verified by http-message-signatures' verifier


def key_material(key: str) -> str:
    """What the leak guard looks for of a key: a shared secret whole; of a PEM
    private key, a stretch of its base64 past the DER header that a public key
    of the same kind shares (its algorithm's OID), which would be no leak."""
    if "PRIVATE KEY" not in key:
        return key
    return "".join(key.splitlines()[1:-1])[40:80]

VERIFIERS = {"ed25519": algorithms.ED25519, "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
             "hmac-sha256": algorithms.HMAC_SHA256}


@pytest.fixture(scope="module")
def signing_keys() -> dict[str, str]:
    keys = {algorithm: generate_key(algorithm) for algorithm in ("ed25519", "ecdsa-p256-sha256")}
    keys["hmac-sha256"] = HMAC_SECRET
    return keys


@pytest.fixture
def http_api(signing_keys, leaks) -> Iterator[SignedApi]:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    registry = Registry(required=("@method", "@target-uri"))
    for algorithm, key in signing_keys.items():
        leaks.watch(key_material(key))
        public: object = (key.encode() if algorithm == "hmac-sha256" else
                          load_pem_public_key(str(public_key_pem(algorithm, key)).encode()))
        registry.http_keys[f"key-{algorithm}"] = (VERIFIERS[algorithm], public)
    server = SignedApi(registry)
    yield server
    server.stop()


def configure_http(cli, api: SignedApi, algorithm: str, key: str, *extra: str) -> None:  # type: ignore[no-untyped-def]
    cli("configure", "sig", "--auth-type", "http_signature", "--url", api.base, "--key-id",
        f"key-{algorithm}", "--algorithm", algorithm, "--signing-key-stdin", *extra,
        stdin=key if "PRIVATE" in key else key + "\n")


@pytest.mark.parametrize("algorithm", sorted(VERIFIERS))
def test_http_signature_through_auth_for(cli, http_api, signing_keys, algorithm):
    configure_http(cli, http_api, algorithm, signing_keys[algorithm])
    with httpx.Client(auth=auth(cli, "sig")) as c:
        got = c.post(f"{http_api.base}/things?x=1", json={"name": "thing"})
        bare = c.get(f"{http_api.base}/things/1")
    assert (got.status_code, bare.status_code) == (200, 200), got.text
    post, get = (dict(c.headers) for c in http_api.checked())
    assert re.fullmatch(
        rf'sig1=\("@method" "@target-uri" "content-digest" "content-type"\);created=\d+'
        rf';keyid="key-{algorithm}";alg="{algorithm}";expires=\d+', post["Signature-Input"])
    assert get["Signature-Input"].startswith('sig1=("@method" "@target-uri");created=')


def test_http_signature_through_the_proxy_and_a_body_too_large_to_digest(
        proc, proxies, http_api, signing_keys):
    proc("configure", "sig", "--auth-type", "http_signature", "--url", http_api.base,
         "--key-id", "key-ed25519", "--algorithm", "ed25519", "--secrets", "env")
    running = proxies.start("sig=0", env={"ASTRA_AUTH_SIG_SIGNING_KEY": signing_keys["ed25519"]})
    with client() as c:
        small = c.post(running.url("sig", "/things"), content=b"x" * MIB,
                       headers={"Content-Type": "text/plain", "Signature": "forged=:AA==:"})
        large = c.post(running.url("sig", "/things"), content=b"x" * (MIB + 1),
                       headers={"Content-Type": "text/plain"})
    assert small.status_code == 200, small.text
    assert large.status_code == 502
    assert large.json() == {"error": {
        "category": "body_not_signable",
        "message": "The signature covers content-digest, but the body streams past what can be "
                   "held to digest it.",
        "hint": "Send a smaller body (one up to 1 MiB is held and signed), or stop covering the "
                "body: astra-auth configure sig --component @method --component @target-uri "
                "--component content-type --no-input"}}
    # Only the one that could be signed reached the API.
    assert [(c.method, c.ok) for c in http_api.checked()] == [("POST", True)]


def test_http_signature_generated_key_and_targets_show_its_public_half(cli, http_api):
    cli("configure", "sig", "--auth-type", "http_signature", "--url", http_api.base,
        "--key-id", "key-new", "--algorithm", "ed25519", "--generate-key")
    pem = cli.store.data["sig:signing_key"]
    data = json.loads(cli("targets", "show", "sig", "--json").out)
    assert data["public_key"]["pem"] == public_key_pem("ed25519", pem)
    assert data["public_key"]["jwk"]["kty"] == "OKP"
    assert data["public_key"]["jwk"]["kid"] == "key-new"
    assert "d" not in data["public_key"]["jwk"]
    assert data["secrets"] == {"signing_key": "stored"}
    human = cli("targets", "show", "sig").out
    assert "Public key (register it with the API as key id key-new):" in human
    assert public_key_pem("ed25519", pem).splitlines()[1] in human
    # The API, given that public key, accepts what the target signs.
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    http_api.registry.http_keys["key-new"] = (algorithms.ED25519, load_pem_public_key(
        data["public_key"]["pem"].encode()))
    assert json.loads(cli("test-token", "sig", "--json").out)["api"]["ok"] is True


def test_http_signature_key_that_does_not_fit_is_invalid_key_and_nothing_is_saved(
        cli, http_api, signing_keys):
    result = cli("configure", "sig", "--auth-type", "http_signature", "--url", http_api.base,
                 "--key-id", "k", "--algorithm", "ed25519", "--signing-key-stdin",
                 stdin=signing_keys["ecdsa-p256-sha256"], expect=3)
    assert ("invalid_key: The signing key for sig cannot sign with ed25519: ed25519 needs an "
            "Ed25519 key; this is another kind of key. Nothing was saved.") in result.err
    assert not cli.config_path.exists() and cli.store.data == {}


def test_http_signature_refusal_names_the_components_and_key_id_the_api_wants(
        cli, http_api, signing_keys):
    http_api.registry.required = ("@method", "@target-uri", "@authority")
    http_api.registry.accept_signature = (
        'sig1=("@method" "@target-uri" "@authority");keyid="key-ed25519";alg="ed25519"')
    http_api.registry.http_keys["key-other"] = http_api.registry.http_keys["key-ed25519"]
    cli("configure", "sig", "--auth-type", "http_signature", "--url", http_api.base,
        "--key-id", "key-other", "--algorithm", "ed25519", "--component", "@method",
        "--component", "@target-uri", "--signing-key-stdin", stdin=signing_keys["ed25519"])
    data = json.loads(cli("test-token", "sig", "--json", expect=7).out)
    assert data["hints"][:2] == [
        "The API expects key id 'key-ed25519', not 'key-other' (an unknown key id): "
        "astra-auth configure sig --key-id key-ed25519 --no-input",
        "The API wants the components @method @target-uri @authority covered: astra-auth "
        "configure sig --component @method --component @target-uri --component @authority "
        "--no-input"]


# ---------------------------------------------------------------------------
# HTTP Digest, answered by Flask-HTTPAuth and lighttpd


@pytest.fixture
def digest_api() -> Iterator[DigestApi]:
    server = DigestApi({DIGEST_USER: DIGEST_PASSWORD})
    yield server
    server.stop()


def configure_digest(cli, api, password: str = DIGEST_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    cli("configure", "dig", "--auth-type", "digest", "--url", api.base, "--username",
        DIGEST_USER, "--password-stdin", stdin=password + "\n")


def test_digest_through_auth_for_answers_the_challenge_once_then_reuses_the_nonce(
        cli, digest_api):
    configure_digest(cli, digest_api)
    with httpx.Client(auth=auth(cli, "dig")) as c:
        first = c.get(f"{digest_api.base}/things")
        second = c.post(f"{digest_api.base}/things/2", content=b"{}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert digest_api.state.statuses == [401, 200, 200]
    assert digest_api.state.authorizations[0] is None


def test_digest_through_the_proxy(proc, proxies, digest_api):
    proc("configure", "dig", "--auth-type", "digest", "--url", digest_api.base, "--username",
         DIGEST_USER, "--secrets", "env")
    running = proxies.start("dig=0", env={"ASTRA_AUTH_DIG_PASSWORD": DIGEST_PASSWORD})
    with client() as c:
        got = [c.get(running.url("dig", "/things")).status_code,
               c.get(running.url("dig", "/things/x?y=1")).status_code]
    # The scanner sees two 200s; the challenge was the proxy's to answer.
    assert got == [200, 200]
    assert digest_api.state.statuses == [401, 200, 200]


def test_digest_sha256_against_lighttpd_through_auth_for(cli, tmp_path):
    import shutil

    from tests.servers.digest_api import Lighttpd

    if shutil.which("lighttpd") is None:
        from tests.conftest import IN_CI

        if IN_CI:
            pytest.fail("CI must test Digest SHA-256 against lighttpd, but it is not installed")
        pytest.skip("lighttpd is not installed (tests/run.sh installs it where it can)")
    server = Lighttpd(tmp_path / "lighttpd", {DIGEST_USER: DIGEST_PASSWORD}, "SHA-256")
    try:
        configure_digest(cli, server)
        with httpx.Client(auth=auth(cli, "dig")) as c:
            got = c.get(f"{server.base}/things/index.txt")
        assert (got.status_code, got.text) == (200, "a thing\n")
    finally:
        server.stop()
        (server.folder / "users").unlink()  # lighttpd's plain user file: not ours


def test_digest_wrong_password_is_explained_by_test_token(cli, digest_api):
    configure_digest(cli, digest_api, password="not-the-password")
    data = json.loads(cli("test-token", "dig", "--json", "--probe", "/things", expect=7).out)
    assert data["api"]["http_status"] == 401
    assert data["hints"] == [  # one hint: the same advice twice in other words helps nobody
        "The API refused the answer to its Digest challenge: check the username 'scanner' and "
        "the password (store it again: printf '%s\\n' \"$PASSWORD\" | astra-auth configure dig "
        "--password-stdin --no-input)."]
    assert digest_api.state.statuses == [401, 401]


# ---------------------------------------------------------------------------
# DPoP: oidc-provider binds the tokens, an API checks each proof with Authlib


@pytest.fixture
def dpop_api(dpop_provider) -> Iterator[DpopApi]:  # type: ignore[no-untyped-def]
    jwks = httpx.get(f"{dpop_provider.issuer}/jwks").json()
    server = DpopApi(jwks, DPOP_RESOURCE)
    yield server
    server.stop()


def configure_dpop(cli, provider, api, *extra: str) -> None:  # type: ignore[no-untyped-def]
    cli("configure", "dp", "--grant-type", "client_credentials", "--token-url",
        provider.token_url, "--client-id", "dpop-scanner", "--client-auth", "post",
        "--scope", "read:things", "--url", api.base, "--dpop", "--client-secret-stdin", *extra,
        stdin=DPOP_SECRET + "\n")


def test_dpop_configure_makes_a_key_and_targets_show_gives_its_thumbprint(
        cli, dpop_provider, dpop_api):
    configure_dpop(cli, dpop_provider, dpop_api, "--dpop-alg", "EdDSA")
    from astra_auth.signing.dpop import DpopKey

    key = DpopKey(cli.store.data["dp:dpop_key"], "EdDSA")
    data = json.loads(cli("targets", "show", "dp", "--json").out)
    assert (data["oauth2"]["dpop"], data["oauth2"]["dpop_alg"]) == (True, "EdDSA")
    assert data["public_key"] == {"jwk": key.jwk, "thumbprint": key.thumbprint}
    assert data["secrets"] == {"client_secret": "stored", "dpop_key": "stored"}
    # Configured again without a change, the key stays (the provider bound it).
    cli("configure", "dp", "--scope", "read:things")
    assert DpopKey(cli.store.data["dp:dpop_key"], "EdDSA").thumbprint == key.thumbprint


def test_dpop_auth_for_sends_a_bound_token_with_a_proof_per_request(
        cli, dpop_provider, dpop_api):
    configure_dpop(cli, dpop_provider, dpop_api)
    with httpx.Client(auth=auth(cli, "dp")) as c:
        got = [c.get(f"{dpop_api.base}/things?page=1").status_code,
               c.post(f"{dpop_api.base}/things", json={"name": "x"}).status_code]
    assert got == [200, 200]
    # The API asked once for its nonce (answered), then took every proof.
    assert [(c.ok, c.reason) for c in dpop_api.checked()] == [
        (False, "nonce"), (True, ""), (True, "")]
    claims = [c.claims for c in dpop_api.checked() if c.ok]
    assert [c["htm"] for c in claims] == ["GET", "POST"]
    assert len({c["jti"] for c in claims}) == 2


def test_dpop_in_env_mode_names_the_proof_keys_variable_when_it_is_unset(cli):
    result = cli("configure", "dp", "--grant-type", "client_credentials", "--token-url",
                 "https://127.0.0.1:9/token", "--client-id", "c", "--dpop", "--secrets", "env",
                 "--no-input", environ={"ASTRA_AUTH_DP_CLIENT_SECRET": "set-here-0123"})
    assert ("ASTRA_AUTH_DP_DPOP_KEY (or ASTRA_AUTH_DPOP_KEY) is not set here; set it wherever "
            "astra-auth runs") in result.err
    assert "CLIENT_SECRET (or" not in result.err  # that one is set


def test_dpop_through_the_proxy(proc, proxies, dpop_provider, dpop_api):
    from astra_auth.signing.dpop import generate_key as dpop_key

    proc("configure", "dp", "--grant-type", "client_credentials", "--token-url",
         dpop_provider.token_url, "--client-id", "dpop-scanner", "--client-auth", "post",
         "--scope", "read:things", "--url", dpop_api.base, "--dpop", "--secrets", "env")
    key = dpop_key("ES256")
    running = proxies.start("dp=0", env={"ASTRA_AUTH_DP_CLIENT_SECRET": DPOP_SECRET,
                                         "ASTRA_AUTH_DP_DPOP_KEY": key})
    with client() as c:
        got = [c.get(running.url("dp", "/things")).status_code,
               c.put(running.url("dp", "/things/1"), content=b"{}").status_code,
               c.get(running.url("dp", "/things"),
                     headers={"DPoP": "forged", "Authorization": "Bearer x"}).status_code]
    assert got == [200, 200, 200]
    assert [c.ok for c in dpop_api.checked()] == [False, True, True, True]


def test_dpop_test_token_reports_a_bound_token_accepted_by_the_api(
        cli, dpop_provider, dpop_api):
    configure_dpop(cli, dpop_provider, dpop_api)
    data = json.loads(cli("test-token", "dp", "--json").out)
    assert (data["ok"], data["token_type"], data["http_status"]) == (True, "DPoP", 200)
    assert data["api"]["ok"] is True
    assert data["warnings"] == []
    assert data["secret_sources"] == {"client_secret": "keyring", "dpop_key": "keyring"}


def test_dpop_token_json_says_each_request_needs_a_proof_and_bare_is_refused(
        cli, dpop_provider, dpop_api):
    configure_dpop(cli, dpop_provider, dpop_api)
    data = json.loads(cli("token", "dp", "--format", "json", token_on_stdout=True).out)
    assert data["token_type"] == "DPoP"
    assert (data["header_name"], data["header_value"]) == (None, None)
    assert data["note"].startswith("DPoP-bound: each request needs a fresh DPoP proof")
    from astra_auth.signing.dpop import DpopKey

    claims = json.loads(__import__("base64").urlsafe_b64decode(
        data["access_token"].split(".")[1] + "=="))
    assert claims["cnf"] == {"jkt": DpopKey(cli.store.data["dp:dpop_key"]).thumbprint}
    for command in (["token", "dp"], ["exec", "dp", "--", "true"]):
        result = cli(*command, expect=2)
        assert (f"{command[0]}: target 'dp' uses a DPoP-bound token, which goes nowhere "
                "without a fresh proof per request") in result.err


def test_dpop_and_bearer_tokens_are_cached_apart():
    from astra_auth.credentials.oauth2 import cache_key
    from astra_auth.storage.config import OAuth2, Target

    def target(dpop: bool, alg: str | None = None) -> Target:
        return Target("t", auth_type="oauth2", oauth2=OAuth2(
            "client_credentials", "https://idp.example.com/token", "c", dpop=dpop, dpop_alg=alg))

    keys = {cache_key(target(False), {}), cache_key(target(True), {}),
            cache_key(target(True, "EdDSA"), {})}
    assert len(keys) == 3
