"""Where each secret comes from (keyring, a variable, nowhere), how test-token,
token and configure say so, and the hints that name the variable to set or unset.

Expected texts are literals: a test that built them from the product's tables
could not fail when a table is wrong.
"""

from __future__ import annotations

import re
import tomllib

from tests.fakes import CLIENT_SECRET, MemoryStore, add_client, broken_store, run_test_token_json

# A wrong client secret that shares no 8-character run with normal output.
WRONG_SECRET = "wq-Zebra7:Ukulele9-QXv"


# ---------------------------------------------------------------------------
# Secrets from the environment: where each came from, and unset the override


def test_a_generic_variable_that_overrides_the_keyring_is_named_with_the_unset_fix(
        cli, idp, store, leaks):
    leaks.watch(WRONG_SECRET)
    add_client(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    wrong = {"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET}
    data = run_test_token_json(cli, "pay", 4, environ=wrong)
    assert data["error"]["category"] == "invalid_client"
    assert data["secret_sources"] == {"client_secret": "ASTRA_AUTH_CLIENT_SECRET"}
    assert data["hints"][0] == (
        "The client secret came from ASTRA_AUTH_CLIENT_SECRET, which overrides the one stored "
        "in the keyring: check its value, or unset it to use the stored one: "
        "unset ASTRA_AUTH_CLIENT_SECRET")
    # Storing it again cannot help while the variable wins: not suggested.
    assert not any("--client-secret-stdin" in hint for hint in data["hints"])
    assert len(data["hints"]) == len(set(data["hints"]))
    panel = cli("test-token", "pay", expect=4, environ=wrong).out
    assert re.search(r"Client secret +from ASTRA_AUTH_CLIENT_SECRET", panel)
    assert "unset ASTRA_AUTH_CLIENT_SECRET" in panel
    # Unset, the stored secret is used and works.
    assert run_test_token_json(cli, "pay", 0)["secret_sources"] == {"client_secret": "keyring"}


def test_the_all_lines_name_where_each_secret_came_from(cli, idp):
    add_client(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    out = cli("test-token", "--all", environ={"ASTRA_AUTH_PAY_CLIENT_SECRET": CLIENT_SECRET}).out
    assert "  Client secret: from ASTRA_AUTH_PAY_CLIENT_SECRET" in out.splitlines()
    out = cli("test-token", "--all").out
    assert "  Client secret: from the OS keyring" in out.splitlines()


def test_a_secret_found_nowhere_is_missing_in_the_panel_and_the_all_lines(cli):
    add_client(cli, "pay", "https://idp.example.com/oauth/token", "--secrets", "env")
    panel = cli("test-token", "pay", expect=3).out
    assert re.search(r"Client secret +missing +│", panel) and "from missing" not in panel
    lines = cli("test-token", "--all", expect=3).out.splitlines()
    assert "  Client secret: missing" in lines


def test_without_a_usable_keyring_no_secret_is_said_to_come_from_it(cli):
    add_client(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    data = run_test_token_json(cli, "pay", 3, secrets=broken_store())
    assert data["error"]["category"] == "missing_secret"
    assert data["secret_sources"] == {"client_secret": "missing"}
    panel = cli("test-token", "pay", expect=3, secrets=broken_store()).out
    assert re.search(r"Client secret +missing +│", panel) and "from the OS keyring" not in panel
    # A keyring that answers but holds nothing: missing too, not "keyring".
    assert run_test_token_json(cli, "pay", 3, secrets=MemoryStore())["secret_sources"] == {
        "client_secret": "missing"}


def test_the_proxy_and_auth_for_hint_names_the_overriding_variable(cli, idp, leaks):
    """auth_for, token, proxy and exec share TokenSource: its hints see the variable too."""
    leaks.watch(WRONG_SECRET)
    add_client(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    result = cli("token", "pay", expect=4,
                 environ={"ASTRA_AUTH_PAY_CLIENT_SECRET": WRONG_SECRET})
    assert ("The client secret came from ASTRA_AUTH_PAY_CLIENT_SECRET, which overrides the one "
            "stored in the keyring") in result.err


# ---------------------------------------------------------------------------
# A secret given to an env-mode target is refused; missing_secret hints that work


def test_a_secret_given_to_an_env_mode_target_is_refused_with_the_fix(cli, config_path, store):
    add_client(cli, "ci-api", "https://idp.example.com/oauth/token", "--secrets", "env")
    before = config_path.read_bytes()
    result = cli("configure", "ci-api", "--client-secret-stdin", stdin=CLIENT_SECRET + "\n",
                 expect=2)
    assert ("--client-secret-stdin: target 'ci-api' keeps its secrets in environment variables "
            "(secrets = env), so nothing given here would be stored") in result.err
    assert ("To store it in the OS keyring instead, add --secrets keyring: printf '%s\\n' "
            "\"$CLIENT_SECRET\" | astra-auth configure ci-api --secrets keyring "
            "--client-secret-stdin --no-input") in result.err
    assert "set ASTRA_AUTH_CI_API_CLIENT_SECRET where astra-auth runs" in result.err
    assert "Saved" not in result.err
    assert config_path.read_bytes() == before
    assert store.data == {}
    # The fix it names works.
    cli("configure", "ci-api", "--secrets", "keyring", "--client-secret-stdin", "--no-input",
        stdin=CLIENT_SECRET + "\n")
    assert store.data == {"ci-api:client_secret": CLIENT_SECRET}


def test_env_mode_missing_secret_offers_the_keyring_only_where_it_works(cli, faults):
    url = faults.url("never-asked")
    add_client(cli, "ci-api", url, "--secrets", "env")
    data = run_test_token_json(cli, "ci-api", 3)
    assert data["hints"] == [
        "This target reads its client secret from the environment: set "
        "ASTRA_AUTH_CI_API_CLIENT_SECRET where astra-auth runs (ASTRA_AUTH_CLIENT_SECRET "
        "works too, but applies to every target).",
        "Or keep it in this machine's OS keyring instead: printf '%s\\n' \"$CLIENT_SECRET\" | "
        "astra-auth configure ci-api --secrets keyring --client-secret-stdin --no-input",
    ]
    # Where the keyring does not answer, no keyring command is offered.
    data = run_test_token_json(cli, "ci-api", 3, secrets=broken_store())
    assert len(data["hints"]) == 1 and "keyring" not in data["hints"][0]


def test_keyring_mode_without_a_keyring_suggests_commands_that_work_here(cli, config_path):
    add_client(cli, "pay", "https://idp.example.com/oauth/token",
         environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    broken = broken_store()
    data = run_test_token_json(cli, "pay", 3, secrets=broken)
    assert data["hints"][0] == (
        "The OS keyring cannot be used here: set ASTRA_AUTH_PAY_CLIENT_SECRET where astra-auth "
        "runs (ASTRA_AUTH_CLIENT_SECRET works too, but applies to every target).")
    assert data["hints"][1] == ("To stop looking in the keyring for this target: astra-auth "
                                "configure pay --secrets env --no-input")
    assert not data["hints"][2].startswith("Store")
    # The command it gives works on this machine, keyring or not.
    cli("configure", "pay", "--secrets", "env", "--no-input", secrets=broken)
    assert tomllib.loads(config_path.read_text())["targets"]["pay"]["oauth2"]["secrets"] == "env"


def test_missing_secret_of_another_type_names_its_own_variable(cli):
    cli("configure", "legacy", "--auth-type", "basic", "--username", "scanner", "--secrets",
        "env")
    data = run_test_token_json(cli, "legacy", 3, secrets=broken_store())
    assert data["hints"] == [
        "This target reads its password from the environment: set ASTRA_AUTH_LEGACY_PASSWORD "
        "where astra-auth runs (ASTRA_AUTH_PASSWORD works too, but applies to every target)."]
