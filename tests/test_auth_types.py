"""Basic, bearer, API key and JWT targets, through `token` and `auth_for`, against
an API of our own that checks each credential exactly (tests/servers/typed_api.py)."""

from __future__ import annotations

import base64
import json
import re
import shlex

import httpx
import pytest

from tests.fakes import Clock, make_deps

BASIC_PASSWORD = "pässwörd-Ünïcode:7Fq2Zx"
BEARER_TOKEN = "bt3f9a0c7e5b1dQ8wLkV2zR"
API_KEY = "ak51c2e9d0b7a4Jf6TnW3yP"
HMAC_SECRET = "hsK2v9Qw7Lm4Zp1Xc8Rt6Yb3Nd5Fg0Hj"


@pytest.fixture
def api(typed_api):  # type: ignore[no-untyped-def]
    return typed_api


@pytest.fixture(autouse=True)
def _watch(leaks):
    leaks.watch(BASIC_PASSWORD, BEARER_TOKEN, API_KEY, HMAC_SECRET)


def write_config(cli, api, body: str, name: str = "t") -> None:
    cli.config_path.parent.mkdir(parents=True, exist_ok=True)
    cli.config_path.write_text(
        f'version = 1\n\n[targets.{name}]\nurl = "{api.base}"\n{body}')


def auth(cli, name="t", clock=None):
    from astra_auth.credentials.interface import SourceSettings, open_source
    from astra_auth.integrations.httpx_auth import AstraAuth
    from astra_auth.storage.lookup import load_target

    deps = make_deps(cli.config_path, secrets=cli.store, clock=clock,
                     environ=getattr(cli, "environ", None))
    target = load_target(deps, name)
    return AstraAuth(open_source(target, deps, SourceSettings()),
                     target.url)


# ---------------------------------------------------------------------------
# Basic (RFC 7617)


def test_basic_sends_utf8_credentials_the_api_accepts(cli, api):
    write_config(cli, api, 'auth_type = "basic"\n[targets.t.basic]\nusername = "scanner"\n')
    cli.store.data["t:password"] = BASIC_PASSWORD
    api.expect["basic"] = ("scanner", BASIC_PASSWORD)
    with httpx.Client(auth=auth(cli)) as client:
        assert client.get(f"{api.base}/basic").status_code == 200
    expected = base64.b64encode("scanner:pässwörd-Ünïcode:7Fq2Zx".encode()).decode()
    out = cli("token", "t", "--format", "header", token_on_stdout=True).out
    assert out == f"Authorization: Basic {expected}\n"


def test_basic_has_no_bare_token(cli, api):
    write_config(cli, api, 'auth_type = "basic"\n[targets.t.basic]\nusername = "scanner"\n')
    cli.store.data["t:password"] = BASIC_PASSWORD
    result = cli("token", "t", expect=2)
    assert ("Use: astra-auth token t --format header (or: astra-auth token t --format json)"
            in result.err)
    assert result.out == ""


# ---------------------------------------------------------------------------
# Bearer


def test_bearer_token_from_the_keyring(cli, api):
    write_config(cli, api, 'auth_type = "bearer"\n[targets.t.bearer]\nsecrets = "keyring"\n')
    cli.store.data["t:bearer_token"] = BEARER_TOKEN
    api.expect["bearer"] = BEARER_TOKEN
    with httpx.Client(auth=auth(cli)) as client:
        assert client.get(f"{api.base}/bearer").status_code == 200
    assert cli("token", "t", token_on_stdout=True).out == BEARER_TOKEN + "\n"


def test_a_refused_static_credential_is_not_retried(cli, api):
    write_config(cli, api, 'auth_type = "bearer"\n[targets.t.bearer]\n')
    cli.store.data["t:bearer_token"] = BEARER_TOKEN
    api.expect["bearer"] = "something-else"
    before = len(api.log)
    with httpx.Client(auth=auth(cli)) as client:
        assert client.get(f"{api.base}/bearer").status_code == 401
    assert len(api.log) == before + 1


# ---------------------------------------------------------------------------
# API keys


@pytest.mark.parametrize("location", ["header", "query", "cookie"])
def test_api_key_in_each_location(cli, api, location):
    write_config(cli, api, f'auth_type = "api_key"\n[targets.t.api_key]\nname = "X-API-Key"\n'
                           f'location = "{location}"\n')
    cli.store.data["t:api_key"] = API_KEY
    api.expect["key"] = ("X-API-Key", API_KEY)
    with httpx.Client(auth=auth(cli)) as client:
        # The credential replaces whatever the client sent in its place.
        response = client.get(f"{api.base}/key-{location}",
                              headers={"X-API-Key": "client-own", "Cookie": "X-API-Key=old"},
                              params={"X-API-Key": "client-own"})
        assert response.json() == {"ok": True, "why": response.json()["why"]}
        assert response.status_code == 200


@pytest.mark.parametrize(("kind", "body", "secret", "hinted"), [
    ("basic", '[targets.t.basic]\nusername = "scanner"\n', ("t:password", BASIC_PASSWORD),
     ["astra-auth token t --format header", "astra-auth token t --format json"]),
    ("api_key", '[targets.t.api_key]\nname = "key"\nlocation = "query"\n',
     ("t:api_key", API_KEY), ["astra-auth token t --format json"]),
    ("api_key", '[targets.t.api_key]\nname = "key"\nlocation = "cookie"\n',
     ("t:api_key", API_KEY),
     ["astra-auth token t --format header", "astra-auth token t --format json"]),
])
def test_every_command_the_bare_refusal_suggests_works_for_that_target(
        cli, api, kind, body, secret, hinted):
    write_config(cli, api, f'auth_type = "{kind}"\n{body}')
    cli.store.data[secret[0]] = secret[1]
    result = cli("token", "t", expect=2)
    suggested = re.findall(r"astra-auth token t --format \w+", result.err)
    assert suggested == hinted
    for line in suggested:
        assert cli(*shlex.split(line)[1:], token_on_stdout=True).out != ""


def test_api_key_in_a_query_parameter_prints_json_not_bare(cli, api):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "key"\n'
                           'location = "query"\n')
    cli.store.data["t:api_key"] = API_KEY
    assert cli("token", "t", expect=2).out == ""
    data = json.loads(cli("token", "t", "--format", "json", token_on_stdout=True).out)
    assert data == {"token_type": None, "access_token": API_KEY, "expires_at": None,
                    "scope": None, "header_name": None, "header_value": None}


def test_per_target_variable_wins_over_the_generic_one_and_the_keyring(cli, api):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "X-API-Key"\n')
    cli.store.data["t:api_key"] = "stored-but-overridden"
    env = {"ASTRA_AUTH_API_KEY": "generic-value", "ASTRA_AUTH_T_API_KEY": API_KEY}
    out = cli("token", "t", "--format", "header", environ=env, token_on_stdout=True).out
    assert out == f"X-API-Key: {API_KEY}\n"
    out = cli("token", "t", "--format", "header", environ={"ASTRA_AUTH_API_KEY": API_KEY},
              token_on_stdout=True).out
    assert out == f"X-API-Key: {API_KEY}\n"


def test_missing_api_key_names_the_variables(cli, api):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.pay-api.api_key]\n'
                           'name = "X-API-Key"\n', name="pay-api")
    result = cli("token", "pay-api", expect=3)
    assert ("No API key for pay-api: nothing in the keyring (entry 'pay-api:api_key') and "
            "neither ASTRA_AUTH_PAY_API_API_KEY nor ASTRA_AUTH_API_KEY is set.") in result.err
    assert ("Or set ASTRA_AUTH_PAY_API_API_KEY where astra-auth runs (ASTRA_AUTH_API_KEY works "
            "too, but applies to every target).") in result.err


# ---------------------------------------------------------------------------
# JWT signed here


def _private_pem(alg: str) -> tuple[str, object]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = (ec.generate_private_key(ec.SECP256R1()) if alg == "ES256"
           else rsa.generate_private_key(public_exponent=65537, key_size=2048))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


JWT_CONFIG = '''auth_type = "jwt"
[targets.t.jwt]
algorithm = "{alg}"
claims = {{ sub = "scanner@example.com", role = "admin" }}
lifetime = 300
header_name = "{header}"
prefix = "{prefix}"
'''


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "RS256", "PS256", "ES256"])
def test_jwt_signed_here_is_verified_by_the_api(cli, api, leaks, alg):
    if alg.startswith("HS"):
        secret, verify_key = HMAC_SECRET, HMAC_SECRET.encode()
    else:
        secret, verify_key = _private_pem(alg)
    leaks.watch(secret)
    write_config(cli, api, JWT_CONFIG.format(alg=alg, header="Authorization", prefix="Bearer"))
    cli.store.data["t:signing_key"] = secret
    api.expect["jwt"] = {"alg": alg, "key": verify_key, "header": "Authorization",
                         "prefix": "Bearer",
                         "claims": {"sub": "scanner@example.com", "role": "admin"}}
    with httpx.Client(auth=auth(cli)) as client:
        response = client.get(f"{api.base}/jwt")
    assert response.json()["ok"] is True, response.json()
    printed = cli("token", "t", token_on_stdout=True).out.strip()
    leaks.watch(printed)
    claims = json.loads(base64.urlsafe_b64decode(printed.split(".")[1] + "=="))
    assert claims["sub"] == "scanner@example.com" and claims["exp"] - claims["iat"] == 300


def test_jwt_in_a_custom_header_without_prefix_is_renewed_before_exp(cli, api, leaks):
    write_config(cli, api, JWT_CONFIG.format(alg="HS256", header="X-Signed", prefix=""))
    cli.store.data["t:signing_key"] = HMAC_SECRET
    api.expect["jwt"] = {"alg": "HS256", "key": HMAC_SECRET.encode(), "header": "X-Signed",
                         "prefix": "", "claims": {"role": "admin"}}
    clock = Clock()
    api.now = clock
    try:
        with httpx.Client(auth=auth(cli, clock=clock)) as client:
            first = client.get(f"{api.base}/jwt").json()
            same = client.get(f"{api.base}/jwt").json()
            clock.advance(241)  # past 80 % of 300 s
            renewed = client.get(f"{api.base}/jwt").json()
    finally:
        import time

        api.now = time.time
    assert first["ok"] and same["ok"] and renewed["ok"]
    assert first["why"] == same["why"] != renewed["why"]  # the jti: a new token after 240 s


def test_jwt_with_a_key_that_does_not_fit_is_invalid_key_exit_3(cli, api, leaks):
    pem, _ = _private_pem("ES256")
    leaks.watch(pem, pem.splitlines()[1])
    write_config(cli, api, JWT_CONFIG.format(alg="RS256", header="Authorization",
                                             prefix="Bearer"))
    cli.store.data["t:signing_key"] = pem
    result = cli("token", "t", expect=3)
    assert "invalid_key: The signing key of t cannot be used with RS256" in result.err
    broken = "-----BEGIN PRIVATE KEY-----\nnot-base64-at-all\n-----END PRIVATE KEY-----\n"
    cli.store.data["t:signing_key"] = broken
    result = cli("token", "t", expect=3)
    assert ("invalid_key: The signing key of t cannot be used with RS256: it is not a "
            "readable PEM private key.") in result.err
    assert "not-base64-at-all" not in result.text


# ---------------------------------------------------------------------------
# The config file


@pytest.mark.parametrize(("body", "problem"), [
    ('auth_type = "basic"\n', 'auth_type is "basic" but the [basic] table is missing'),
    ('auth_type = "bearer"\n[targets.t.basic]\nusername = "u"\n',
     "targets.t.basic: a [basic] table, but auth_type is 'bearer'"),
    ('auth_type = "jwt"\n[targets.t.jwt]\nalgorithm = "HS256"\nclaims = { exp = 1 }\n',
     "targets.t.jwt.claims.exp: is set for each token; leave it out"),
    ('auth_type = "jwt"\n[targets.t.jwt]\nalgorithm = "none"\n',
     "targets.t.jwt.algorithm: 'none' is not one of"),
    ('auth_type = "api_key"\n[targets.t.api_key]\nname = "X Key"\n',
     "targets.t.api_key.name: 'X Key' is not a valid header name"),
    ('auth_type = "basic"\n[targets.t.basic]\nusername = "a:b"\n',
     "targets.t.basic.username: cannot contain ':' (RFC 7617)"),
    ('auth_type = "api_key"\n[targets.t.api_key]\nname = "k"\napi_key = "leaked"\n',
     "targets.t.api_key.api_key: secrets do not belong in the config file"),
])
def test_config_errors_for_the_new_types_are_exit_3(cli, api, body, problem):
    write_config(cli, api, body)
    result = cli("token", "t", expect=3)
    assert problem in result.err


def test_a_key_in_the_url_is_masked_in_httpx_request_logs(cli, api, caplog):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "key"\n'
                           'location = "query"\n')
    cli.store.data["t:api_key"] = API_KEY
    api.expect["key"] = ("key", API_KEY)
    with httpx.Client(auth=auth(cli)) as client:
        assert client.get(f"{api.base}/key-query").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert f'HTTP Request: GET {api.base}/key-query?key=•••••• "HTTP/1.1 200 OK"' in logged
