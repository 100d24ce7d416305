"""`configure` for basic, bearer, api_key and jwt: flags in CI and the walk-through."""

from __future__ import annotations

import json
import tomllib

import pytest

from tests.fakes import ScriptedPrompter, Step, new_target
from tests.test_auth_types import API_KEY, BASIC_PASSWORD, BEARER_TOKEN, HMAC_SECRET

SAVE = [Step("confirm", "Save", True), Step("confirm", "Run test-token", False)]


@pytest.fixture(autouse=True)
def _watch(leaks):
    leaks.watch(BASIC_PASSWORD, BEARER_TOKEN, API_KEY, HMAC_SECRET)


def saved(cli, name="t"):
    return tomllib.loads(cli.config_path.read_text())["targets"][name]


# ---------------------------------------------------------------------------
# Flags


def test_basic_by_flags(cli):
    cli("configure", "t", "--auth-type", "basic", "--url", "https://api.example.com",
        "--username", "scanner", "--password-stdin", stdin=BASIC_PASSWORD + "\n")
    assert saved(cli) == {"url": "https://api.example.com", "auth_type": "basic",
                          "basic": {"username": "scanner", "secrets": "keyring"}}
    assert cli.store.data == {"t:password": BASIC_PASSWORD}


def test_bearer_by_flags(cli):
    cli("configure", "t", "--auth-type", "bearer", "--token-stdin", stdin=BEARER_TOKEN + "\n")
    assert saved(cli) == {"auth_type": "bearer", "bearer": {"secrets": "keyring"}}
    assert cli.store.data == {"t:bearer_token": BEARER_TOKEN}


def test_api_key_by_flags_then_only_the_location_changes(cli):
    cli("configure", "t", "--auth-type", "api_key", "--key-name", "X-API-Key",
        "--api-key-stdin", stdin=API_KEY + "\n")
    cli("configure", "t", "--key-location", "cookie")
    assert saved(cli)["api_key"] == {"name": "X-API-Key", "location": "cookie",
                                     "secrets": "keyring"}
    assert cli.store.data == {"t:api_key": API_KEY}


def test_jwt_by_flags_with_claims_and_a_key_file(cli, tmp_path, leaks):
    from tests.test_auth_types import _private_pem

    pem, _ = _private_pem("ES256")
    leaks.watch(pem, pem.splitlines()[1])
    key_file = tmp_path / "signing.pem"
    key_file.write_text(pem)
    cli("configure", "t", "--auth-type", "jwt", "--algorithm", "ES256", "--signing-key-file",
        str(key_file), "--claim", "sub=scanner@example.com", "--claim", "admin=true",
        "--lifetime", "120", "--header-name", "X-Signed", "--prefix", "")
    assert saved(cli)["jwt"] == {
        "algorithm": "ES256", "claims": {"sub": "scanner@example.com", "admin": True},
        "lifetime": 120, "header_name": "X-Signed", "prefix": "", "secrets": "keyring"}
    assert cli.store.data == {"t:signing_key": pem}
    assert str(key_file) not in cli.config_path.read_text()  # no path to a private key
    key_file.unlink()  # (the leak guard reads every file under tmp_path)


def test_jwt_hmac_secret_from_stdin(cli):
    cli("configure", "t", "--auth-type", "jwt", "--algorithm", "HS256", "--signing-key-stdin",
        stdin=HMAC_SECRET + "\n")
    assert cli.store.data == {"t:signing_key": HMAC_SECRET}
    assert saved(cli)["jwt"]["prefix"] == "Bearer"


@pytest.mark.parametrize(("args", "message"), [
    (["--auth-type", "basic", "--username", "u", "--key-name", "k"],
     "--key-name: not a setting of the Basic auth type (auth_type basic)"),
    (["--auth-type", "oauth2", "--key-name", "k"],
     "--key-name: not a setting of the OAuth 2.0 auth type (auth_type oauth2)"),
    (["--auth-type", "api_key", "--api-key-stdin", "--grant-type", "password"],
     "--grant-type: not a setting of the API key auth type (auth_type api_key)"),
    (["--auth-type", "bearer", "--algorithm", "HS256"],
     "--algorithm: not a setting of the Bearer token auth type (auth_type bearer)"),
])
def test_a_flag_of_another_type_is_exit_2(cli, args, message):
    result = cli("configure", "t", *args, expect=2, stdin="x\n")
    assert message in result.err
    assert not cli.config_path.exists()


@pytest.mark.parametrize(("args", "missing"), [
    (["--auth-type", "basic"], "--username, --password-stdin (or ASTRA_AUTH_PASSWORD)"),
    (["--auth-type", "api_key"], "--key-name, --api-key-stdin (or ASTRA_AUTH_API_KEY)"),
    (["--auth-type", "jwt"], "--algorithm, --signing-key-stdin (or ASTRA_AUTH_SIGNING_KEY)"),
    (["--auth-type", "bearer"], "--token-stdin (or ASTRA_AUTH_BEARER_TOKEN)"),
])
def test_missing_values_are_named_together(cli, args, missing):
    result = cli("configure", "t", *args, expect=2)
    assert ("missing required values (not running interactively, so nothing is asked): "
            + missing) in result.err


def test_claims_cannot_set_exp(cli):
    result = cli("configure", "t", "--auth-type", "jwt", "--algorithm", "HS256",
                 "--claim", "exp=1", expect=2)
    assert "--claim: exp is set for each token; leave it out" in result.err


def test_changing_type_removes_the_old_types_secret(cli):
    cli("configure", "t", "--auth-type", "bearer", "--token-stdin", stdin=BEARER_TOKEN + "\n")
    cli("configure", "t", "--auth-type", "api_key", "--key-name", "k", "--api-key-stdin",
        stdin=API_KEY + "\n")
    assert cli.store.data == {"t:api_key": API_KEY}
    assert "bearer" not in saved(cli)


def test_per_target_variable_supplies_the_secret_in_ci(cli):
    cli("configure", "pay-api", "--auth-type", "bearer",
        environ={"ASTRA_AUTH_PAY_API_BEARER_TOKEN": BEARER_TOKEN})
    assert cli.store.data == {"pay-api:bearer_token": BEARER_TOKEN}


# ---------------------------------------------------------------------------
# The walk-through


def _start(type_index: int) -> list[Step]:
    return [*new_target("t"), Step("select", "Authentication type", type_index)]


def test_walkthrough_basic(cli):
    steps = _start(1) + [Step("text", "Username", "scanner"),
                         Step("secret", "Password", BASIC_PASSWORD)] + SAVE
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert "Basic" in result.out and "•••••• (new, to the OS keyring)" in result.out
    assert saved(cli)["basic"] == {"username": "scanner", "secrets": "keyring"}
    assert cli.store.data == {"t:password": BASIC_PASSWORD}


def test_walkthrough_bearer(cli):
    steps = _start(2) + [Step("secret", "Bearer token", BEARER_TOKEN)] + SAVE
    cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert saved(cli)["auth_type"] == "bearer"
    assert cli.store.data == {"t:bearer_token": BEARER_TOKEN}


def test_walkthrough_api_key_in_a_query_parameter(cli):
    # Where first, then the name in its terms.
    steps = _start(3) + [Step("select", "Where the key goes", 1),
                         Step("text", "Query parameter name", "key"),
                         Step("secret", "API key", API_KEY)] + SAVE
    cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert saved(cli)["api_key"] == {"name": "key", "location": "query",
                                     "secrets": "keyring"}


@pytest.mark.parametrize(("location", "prompt", "usual"), [
    (0, "Header name", "X-API-Key"), (1, "Query parameter name", "api_key")])
def test_walkthrough_api_key_name_is_asked_in_the_locations_terms(cli, location, prompt, usual):
    """Enter takes the usual name for that location."""
    prompter = ScriptedPrompter(_start(3) + [Step("select", "Where the key goes", location),
                                             Step("text", prompt, None),
                                             Step("secret", "API key", API_KEY)] + SAVE)
    cli("configure", tty=True, prompter=prompter)
    assert saved(cli)["api_key"]["name"] == usual


def test_walkthrough_api_key_cookie_name_has_no_default(cli):
    steps = _start(3) + [Step("select", "Where the key goes", 2),
                         Step("text", "Cookie name", ""),  # refused: no usual cookie name
                         Step("text", "Cookie name", "session"),
                         Step("secret", "API key", API_KEY)] + SAVE
    cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert saved(cli)["api_key"] == {"name": "session", "location": "cookie",
                                     "secrets": "keyring"}


def test_walkthrough_jwt_with_a_pem_file(cli, tmp_path, leaks):
    from tests.test_auth_types import _private_pem

    pem, _ = _private_pem("RS256")
    leaks.watch(pem, pem.splitlines()[1])
    key_file = tmp_path / "k.pem"
    key_file.write_text(pem)
    steps = _start(4) + [
        Step("select", "Signing algorithm", 3),  # RS256
        Step("text", "Private key file", str(tmp_path / "missing.pem")),  # refused, asked again
        Step("text", "Private key file", str(key_file)),
        Step("text", "Claims", '{"sub": "scanner", "exp": 5}'),  # refused: exp is per token
        Step("text", "Claims", '{"sub": "scanner"}'),
        Step("text", "Lifetime", "600"),
        Step("text", "Header name", ""),  # Enter: Authorization
        Step("text", "Prefix", ""),  # Enter: Bearer
    ] + SAVE
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    key_file.unlink()
    assert "cannot be read" in result.err and "exp is set for each token" in result.err
    assert saved(cli)["jwt"] == {"algorithm": "RS256", "claims": {"sub": "scanner"},
                                 "lifetime": 600, "header_name": "Authorization",
                                 "prefix": "Bearer", "secrets": "keyring"}
    assert cli.store.data == {"t:signing_key": pem}


def test_walkthrough_edit_keeps_the_stored_key_on_enter(cli):
    cli("configure", "t", "--auth-type", "api_key", "--key-name", "X-Key", "--api-key-stdin",
        stdin=API_KEY + "\n")
    # The menu: API URL, type, key location (2: it shapes the rest, so all three
    # are offered again), key name, API key, Done.
    steps = [Step("text", "Target: a number", "t"), Step("select", "Which setting?", 2),
             Step("select", "Where the key goes", None), Step("text", "Header name", ""),
             Step("secret", "API key (hidden; Enter keeps the stored one)", ""),
             Step("select", "Which setting?", None)] + SAVE
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert "•••••• (stored, unchanged)" in result.out
    assert cli.store.data == {"t:api_key": API_KEY}
    assert saved(cli)["api_key"]["name"] == "X-Key"


# ---------------------------------------------------------------------------
# targets list and show


def test_list_and_show_each_types_own_settings(cli):
    cli("configure", "k", "--auth-type", "api_key", "--key-name", "X-API-Key",
        "--key-location", "cookie", "--api-key-stdin", stdin=API_KEY + "\n")
    cli("configure", "s", "--auth-type", "jwt", "--algorithm", "HS512", "--claim", "sub=scan",
        "--signing-key-stdin", stdin=HMAC_SECRET + "\n")
    listed = cli("targets", "list").out.splitlines()
    assert listed[1].split()[:3] == ["k", "—", "API"]
    assert listed[2].split()[:3] == ["s", "—", "JWT"]
    shown = cli("targets", "show", "k", environ={"ASTRA_AUTH_K_API_KEY": "x"}).out
    assert "Key name" in shown and "X-API-Key" in shown and "cookie" in shown
    assert "env (ASTRA_AUTH_K_API_KEY)" in shown
    import json

    data = json.loads(cli("targets", "show", "s", "--json").out)
    assert data["auth_type"] == "jwt" and data["oauth2"] is None
    assert data["jwt"] == {"algorithm": "HS512", "claims": {"sub": "scan"}, "lifetime": 300,
                           "header_name": "Authorization", "prefix": "Bearer",
                           "secrets": "keyring"}
    assert data["secrets"] == {"signing_key": "stored"}
    data = json.loads(cli("targets", "show", "k", "--json",
                          environ={"ASTRA_AUTH_API_KEY": "x"}).out)
    assert data["secrets"] == {"api_key": "env"}
    assert data["secret_variables"] == {"api_key": ["ASTRA_AUTH_K_API_KEY", "ASTRA_AUTH_API_KEY"]}


def test_show_json_names_the_variables_an_env_mode_target_reads_even_when_unset(cli):
    cli("configure", "ci-api", "--grant-type", "client_credentials", "--client-id", "c",
        "--token-url", "https://idp.example.com/token", "--secrets", "env", "--no-input")
    data = json.loads(cli("targets", "show", "ci-api", "--json", environ={}).out)
    assert data["secrets"] == {"client_secret": "missing"}
    assert data["secret_variables"] == {
        "client_secret": ["ASTRA_AUTH_CI_API_CLIENT_SECRET", "ASTRA_AUTH_CLIENT_SECRET"]}


def test_remove_deletes_every_kind_of_secret(cli):
    cli("configure", "s", "--auth-type", "jwt", "--algorithm", "HS256", "--signing-key-stdin",
        stdin=HMAC_SECRET + "\n")
    cli("targets", "remove", "s", "--yes")
    assert cli.store.data == {}
