"""test-token's API check: one GET with the credential, and what a refusal means."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.fakes import CLIENT_SECRET
from tests.test_auth_types import API_KEY, BEARER_TOKEN, HMAC_SECRET, write_config

ENV = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def api(typed_api):  # type: ignore[no-untyped-def]
    return typed_api


@pytest.fixture(autouse=True)
def _watch(leaks):
    leaks.watch(BEARER_TOKEN, API_KEY, HMAC_SECRET)


def run_json(cli, *args, expect=0, environ=None):
    result = cli("test-token", *args, "--json", expect=expect, environ=environ or {})
    return json.loads(result.out), result


def bearer(cli, api, url=None):
    write_config(cli, api, 'auth_type = "bearer"\n[targets.t.bearer]\n')
    if url is not None:
        text = cli.config_path.read_text().replace(f'url = "{api.base}"', f'url = "{url}"')
        cli.config_path.write_text(text)
    cli.store.data["t:bearer_token"] = BEARER_TOKEN
    api.expect["bearer"] = BEARER_TOKEN


# ---------------------------------------------------------------------------
# OAuth 2.0 end to end: an audience the API refuses, then a scope, then accepted


def test_oauth2_audience_then_scope_then_accepted(cli, idp):
    orders = f"{idp.base}/api/orders"
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--scope", "read:things", "--audience",
        "https://other.example", "--url", orders, environ=ENV)

    data, result = run_json(cli, "t", expect=7, environ=ENV)
    leaks_tokens(cli, idp)
    assert data["ok"] is False
    assert data["error"]["category"] == "api_unauthorized"
    assert data["error"]["oauth_error"] == "invalid_token"
    assert data["error"]["oauth_error_description"] == "the audience is wrong"
    assert data["api"] == {"url": orders, "http_status": 401, "ok": False,
                           "www_authenticate": 'Bearer error="invalid_token", '
                                               'error_description="the audience is wrong"',
                           "elapsed_ms": data["api"]["elapsed_ms"]}
    assert data["hints"][0] == (
        f"The token's audience (aud) is 'https://other.example', not this API ({idp.base}). "
        f"Ask the provider for a token for this API: astra-auth configure t --audience "
        f"{idp.base} --no-input (Auth0, Okta), or astra-auth configure t --param "
        f"resource={idp.base} --no-input (Entra ID v1 and other RFC 8707 providers).")

    # Both commands the hint offers are accepted as printed.
    cli("configure", "t", "--param", f"resource={idp.base}", environ=ENV)
    cli("configure", "t", "--audience", idp.base, environ=ENV)
    data, _ = run_json(cli, "t", expect=7, environ=ENV)
    leaks_tokens(cli, idp)
    assert data["error"]["category"] == "api_forbidden"
    assert data["hints"][0] == (
        "The API asks for scope 'write:things'; the token lacks 'write:things'. Request it "
        "with: astra-auth configure t --scope 'read:things write:things' --no-input")

    cli("configure", "t", "--scope", "read:things write:things", environ=ENV)
    data, _ = run_json(cli, "t", environ=ENV)
    leaks_tokens(cli, idp)
    assert data["ok"] is True and data["api"]["ok"] is True and data["api"]["http_status"] == 200
    human = cli("test-token", "t", environ=ENV)
    leaks_tokens(cli, idp)
    assert "t: token obtained and accepted by the API" in human.out


def leaks_tokens(cli, idp):
    cli.leaks.watch(*idp.state.issued)


# ---------------------------------------------------------------------------
# Each kind of answer


def test_accepted(cli, api):
    bearer(cli, api)
    data, _ = run_json(cli, "t", "--probe", "/bearer")
    assert data["ok"] is True and data["auth_type"] == "bearer"
    assert data["grant_type"] is None and data["token_url"] is None
    assert data["http_status"] is None
    assert data["secret_sources"] == {"bearer_token": "keyring"}
    assert data["api"]["url"] == f"{api.base}/bearer"
    assert data["api"]["ok"] is True and data["api"]["http_status"] == 200


def test_401_without_parameters_points_at_the_stored_token(cli, api):
    bearer(cli, api)
    data, result = run_json(cli, "t", "--probe", "/bare-401", expect=7)
    assert data["error"]["category"] == "api_unauthorized"
    assert data["error"]["http_status"] == 401 and data["error"]["oauth_error"] is None
    assert data["hints"] == ["The stored bearer token may have expired or been revoked: store "
                             "a new one with astra-auth configure t."]


def test_403_insufficient_scope(cli, api):
    bearer(cli, api)
    data, _ = run_json(cli, "t", "--probe", "/scope-403", expect=7)
    assert data["error"]["category"] == "api_forbidden"
    assert data["hints"][0] == ("The API wants more scope than the token has (it asks for "
                                "'admin:things').")
    assert data["hints"][-1] == ("A 403 can also mean this identity may not read this path: "
                                 "choose one it may read with --probe PATH.")


def test_a_404_neither_passes_nor_fails_and_says_to_probe_a_path_that_needs_the_credential(
        cli, api):
    bearer(cli, api)
    data, _ = run_json(cli, "t", "--probe", "/no-such-path")
    assert data["ok"] is True  # the credential was obtained
    assert data["api"]["http_status"] == 404 and data["api"]["ok"] is None
    assert data["warnings"] == [
        f"The API answered 404 to GET {api.base}/no-such-path: neither accepted nor refused "
        "the credential, so this does not tell whether it takes the credential. Check a path "
        "that needs it (PATH under the target's url): astra-auth test-token t --probe /PATH"]
    human = cli("test-token", "t", "--probe", "/no-such-path")
    assert "accepted by the API" not in human.out
    assert "404 from GET" in human.out and "neither accepted nor refused" in human.out


def test_a_redirect_is_not_followed_and_neither_passes_nor_fails(cli, api):
    bearer(cli, api)
    before = len(api.seen)
    data, _ = run_json(cli, "t", "--probe", "/moved")
    assert data["ok"] is True
    assert data["api"]["http_status"] == 302 and data["api"]["ok"] is None
    assert data["warnings"] == [
        f"The API answered 302 to GET {api.base}/moved: a redirect to "
        "https://elsewhere.example/login; astra-auth does not follow it, so the credential was "
        "not sent there, so this does not tell whether it takes the credential. Check a path "
        "that needs it (PATH under the target's url): astra-auth test-token t --probe /PATH"]
    assert [path for path, _, _ in api.seen[before:]] == ["/moved"]  # not followed


def test_a_500_neither_passes_nor_fails(cli, api):
    bearer(cli, api)
    data, _ = run_json(cli, "t", "--probe", "/boom")
    assert data["ok"] is True
    assert data["api"]["http_status"] == 500 and data["api"]["ok"] is None
    assert data["warnings"][0].startswith(
        f"The API answered 500 to GET {api.base}/boom: an error on its side, so this does not "
        "tell whether it takes the credential.")


def test_an_unreachable_api_does_not_fail_the_check(cli, api, closed_port):
    bearer(cli, api, url=f"http://127.0.0.1:{closed_port}")
    data, _ = run_json(cli, "t")
    assert data["ok"] is True
    assert data["api"]["ok"] is None and data["api"]["http_status"] is None
    assert data["warnings"][0].startswith(
        "The API could not be reached from here (connection_refused):")


def test_no_probe_and_probe_elsewhere(cli, api):
    bearer(cli, api)
    data, _ = run_json(cli, "t", "--no-probe")
    assert data["api"] is None
    result = cli("test-token", "t", "--probe", "https://evil.example/steal", expect=2)
    assert (f"--probe: https://evil.example/steal is not on the API's origin ({api.base}); "
            "the credential is only ever sent to the target's own origin") in result.err


def test_hostile_www_authenticate_is_shown_escaped(cli, api):
    bearer(cli, api)
    result = cli("test-token", "t", "--probe", "/hostile-401", expect=7)
    assert "\x1b" not in result.text and "\x9b" not in result.text
    assert "\\x1b]52;c;ZXZpbA==\\x07" in result.out


def test_api_key_in_a_query_parameter_is_checked_where_the_scanner_sends_it(cli, api):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "key"\n'
                           'location = "query"\n')
    cli.store.data["t:api_key"] = API_KEY
    api.expect["key"] = ("key", API_KEY)
    data, _ = run_json(cli, "t", "--probe", "/key-query")
    assert data["api"]["ok"] is True
    path, _headers, query = api.seen[-1]
    assert path == "/key-query" and query == f"key={API_KEY}"


def test_jwt_signed_here_is_accepted_and_its_header_shown(cli, api):
    write_config(cli, api, 'auth_type = "jwt"\n[targets.t.jwt]\nalgorithm = "HS256"\n'
                           'claims = { sub = "scanner" }\n')
    cli.store.data["t:signing_key"] = HMAC_SECRET
    api.expect["jwt"] = {"alg": "HS256", "key": HMAC_SECRET.encode(), "header": "Authorization",
                         "prefix": "Bearer", "claims": {"sub": "scanner"}}
    now = time.time()  # signing and "expires in" read one instant: no second ticks between
    result = cli("test-token", "t", "--probe", "/jwt", "--json", clock=lambda: now)
    data = json.loads(result.out)
    assert data["api"]["ok"] is True
    assert data["jwt_claims"]["sub"] == "scanner" and data["expires_in"] == 300
    human = cli("test-token", "t", "--probe", "/jwt")
    assert "JWT header:" in human.out and "HS256" in human.out
    assert "t: credential ready and accepted by the API" in human.out


def test_missing_secret_for_a_new_type_is_exit_3(cli, api):
    write_config(cli, api, 'auth_type = "bearer"\n[targets.t.bearer]\n')
    data, _ = run_json(cli, "t", expect=3)
    assert data["error"]["category"] == "missing_secret"
    assert data["hints"] == [
        "Store the bearer token in the keyring with: printf '%s\\n' \"$BEARER_TOKEN\" | "
        "astra-auth configure t --token-stdin --no-input",
        "Or set ASTRA_AUTH_T_BEARER_TOKEN where astra-auth runs (ASTRA_AUTH_BEARER_TOKEN works "
        "too, but applies to every target)."]
    assert data["api"] is None


def test_a_refused_bearer_token_from_a_variable_says_to_unset_it(cli, api, leaks):
    """The variable wins over the stored token; storing again cannot help."""
    stale = "bt-Walrus3:Tundra5-KLm"
    leaks.watch(stale)
    bearer(cli, api)
    data, _ = run_json(cli, "t", expect=7, environ={"ASTRA_AUTH_T_BEARER_TOKEN": stale})
    assert data["secret_sources"] == {"bearer_token": "ASTRA_AUTH_T_BEARER_TOKEN"}
    assert ("The bearer token came from ASTRA_AUTH_T_BEARER_TOKEN, which overrides the one "
            "stored in the keyring: check its value, or unset it to use the stored one: "
            "unset ASTRA_AUTH_T_BEARER_TOKEN") in data["hints"]
    assert not any("store a new one" in hint for hint in data["hints"])


def test_an_api_key_the_api_calls_an_invalid_token_gets_the_keys_own_hints(cli, api):
    """No provider, issuer or signing key stands behind an API key: the hints
    speak of the key, where it is sent, and how to change it."""
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "X-API-Key"\n'
                           'location = "header"\n')
    cli.store.data["t:api_key"] = API_KEY
    api.expect["key"] = ("X-API-Key", "another-key-entirely")
    data, _ = run_json(cli, "t", "--probe", "/key-header", expect=7)
    assert data["error"]["oauth_error"] == "invalid_token"
    assert data["hints"] == [
        "The API says the API key is invalid.",
        "The key is sent as the header 'X-API-Key': check that the API reads it there, and "
        "that the key is valid (astra-auth configure t --key-name X-API-Key --no-input "
        "changes the name)."]


def test_an_api_key_from_a_variable_is_named_api_key_in_the_hint(cli, api):
    write_config(cli, api, 'auth_type = "api_key"\n[targets.t.api_key]\nname = "X-API-Key"\n'
                           'location = "header"\n')
    api.expect["key"] = ("X-API-Key", "another-key-entirely")
    data, _ = run_json(cli, "t", "--probe", "/key-header", expect=7,
                       environ={"ASTRA_AUTH_API_KEY": API_KEY})
    assert data["hints"][1].startswith("The API key came from ASTRA_AUTH_API_KEY, which ")


def test_the_panel_has_a_jwt_row_only_for_a_token(cli, api):
    write_config(cli, api, 'auth_type = "basic"\n[targets.t.basic]\nusername = "scanner"\n')
    cli.store.data["t:password"] = "pw-Basic-Otter7"
    api.expect["basic"] = ("scanner", "pw-Basic-Otter7")
    cli.leaks.watch("pw-Basic-Otter7")
    panel = cli("test-token", "t", "--probe", "/basic").out
    assert "accepted by the API" in panel and "JWT" not in panel
    bearer(cli, api)
    panel = cli("test-token", "t", "--probe", "/bearer").out
    assert re.search(r"JWT +no \(an opaque token\)", panel)
