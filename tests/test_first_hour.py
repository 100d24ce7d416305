"""Issue 14: the first hour of a new user, each stumble with the test that catches it.

Expected texts are literals: a test that built them from the product's tables
could not fail when a table is wrong.
"""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from dataclasses import replace

from astra_auth.core.failure import Failure
from astra_auth.diagnosis.hints import Context, hints_for
from tests.fakes import CLIENT_SECRET, NO_DOCUMENT, MemoryStore, ScriptedPrompter, Step

# A wrong client secret that shares no 8-character run with normal output.
WRONG_SECRET = "wq-Zebra7:Ukulele9-QXv"
GUIDE_REACH = ("Verify that the Access Token URL is reachable from the scanner's environment and "
               "that the Client ID and Client Secret are correct.")
CTX_CC = Context("payments-api", "client_credentials", "scanner-app", "basic",
                 "https://idp.example.com/oauth/token")


def _broken() -> MemoryStore:
    store = MemoryStore()
    store.fail_on = {"get", "set", "delete"}
    return store


def _add(cli, name, token_url, *extra, **kwargs):
    cli("configure", name, "--grant-type", "client_credentials", "--token-url", token_url,
        "--client-id", "scanner-app", *extra, **kwargs)


def _test_token_json(cli, name, expect, **kwargs):
    result = cli("test-token", name, "--json", expect=expect, **kwargs)
    return json.loads(result.out)


# ---------------------------------------------------------------------------
# 1. Secrets from the environment: where each came from, and unset the override


def test_a_generic_variable_that_overrides_the_keyring_is_named_with_the_unset_fix(
        cli, idp, store, leaks):
    leaks.watch(WRONG_SECRET)
    _add(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    wrong = {"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET}
    data = _test_token_json(cli, "pay", 4, environ=wrong)
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
    assert _test_token_json(cli, "pay", 0)["secret_sources"] == {"client_secret": "keyring"}


def test_the_all_lines_name_where_each_secret_came_from(cli, idp):
    _add(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    out = cli("test-token", "--all", environ={"ASTRA_AUTH_PAY_CLIENT_SECRET": CLIENT_SECRET}).out
    assert "  Client secret: from ASTRA_AUTH_PAY_CLIENT_SECRET" in out.splitlines()
    out = cli("test-token", "--all").out
    assert "  Client secret: from the OS keyring" in out.splitlines()


def test_a_secret_found_nowhere_is_missing_in_the_panel_and_the_all_lines(cli):
    _add(cli, "pay", "https://idp.example.com/oauth/token", "--secrets", "env")
    panel = cli("test-token", "pay", expect=3).out
    assert re.search(r"Client secret +missing +│", panel) and "from missing" not in panel
    lines = cli("test-token", "--all", expect=3).out.splitlines()
    assert "  Client secret: missing" in lines


def test_without_a_usable_keyring_no_secret_is_said_to_come_from_it(cli):
    _add(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    data = _test_token_json(cli, "pay", 3, secrets=_broken())
    assert data["error"]["category"] == "missing_secret"
    assert data["secret_sources"] == {"client_secret": "missing"}
    panel = cli("test-token", "pay", expect=3, secrets=_broken()).out
    assert re.search(r"Client secret +missing +│", panel) and "from the OS keyring" not in panel
    # A keyring that answers but holds nothing: missing too, not "keyring".
    assert _test_token_json(cli, "pay", 3, secrets=MemoryStore())["secret_sources"] == {
        "client_secret": "missing"}


def test_the_proxy_and_auth_for_hint_names_the_overriding_variable(cli, idp, leaks):
    """auth_for, token, proxy and exec share TokenSource: its hints see the variable too."""
    leaks.watch(WRONG_SECRET)
    _add(cli, "pay", idp.token_url, "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    result = cli("token", "pay", expect=4,
                 environ={"ASTRA_AUTH_PAY_CLIENT_SECRET": WRONG_SECRET})
    assert ("The client secret came from ASTRA_AUTH_PAY_CLIENT_SECRET, which overrides the one "
            "stored in the keyring") in result.err


# ---------------------------------------------------------------------------
# 2. A secret given to an env-mode target is refused; missing_secret hints that work


def test_a_secret_given_to_an_env_mode_target_is_refused_with_the_fix(cli, config_path, store):
    _add(cli, "ci-api", "https://idp.example.com/oauth/token", "--secrets", "env")
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
    _add(cli, "ci-api", url, "--secrets", "env")
    data = _test_token_json(cli, "ci-api", 3)
    assert data["hints"] == [
        "This target reads its client secret from the environment: set "
        "ASTRA_AUTH_CI_API_CLIENT_SECRET where astra-auth runs (ASTRA_AUTH_CLIENT_SECRET "
        "works too, but applies to every target).",
        "Or keep it in this machine's OS keyring instead: printf '%s\\n' \"$CLIENT_SECRET\" | "
        "astra-auth configure ci-api --secrets keyring --client-secret-stdin --no-input",
    ]
    # Where the keyring does not answer, no keyring command is offered.
    data = _test_token_json(cli, "ci-api", 3, secrets=_broken())
    assert len(data["hints"]) == 1 and "keyring" not in data["hints"][0]


def test_keyring_mode_without_a_keyring_suggests_commands_that_work_here(cli, config_path):
    _add(cli, "pay", "https://idp.example.com/oauth/token",
         environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    broken = _broken()
    data = _test_token_json(cli, "pay", 3, secrets=broken)
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
    data = _test_token_json(cli, "legacy", 3, secrets=_broken())
    assert data["hints"] == [
        "This target reads its password from the environment: set ASTRA_AUTH_LEGACY_PASSWORD "
        "where astra-auth runs (ASTRA_AUTH_PASSWORD works too, but applies to every target)."]


# ---------------------------------------------------------------------------
# 7. Hints: no contradiction, no repeat, the guide only where it can be the cause


def test_once_both_methods_failed_the_other_method_is_not_suggested():
    failure = Failure("invalid_client", "m", details={
        "other_client_auth": "post", "other_client_auth_result": "invalid_client"})
    text = "\n".join(hints_for(failure, CTX_CC))
    assert "--client-auth post" not in text
    assert "which failed too" in text
    failure = Failure("http_error", "m", http_status=401, details={
        "other_client_auth": "post", "other_client_auth_result": "401"})
    assert "--client-auth" not in "\n".join(hints_for(failure, CTX_CC))


def test_the_generic_guide_only_where_the_client_and_its_secret_can_be_the_cause():
    # Not where the token endpoint was never reached, nor where it said what was
    # wrong with the request rather than the client.
    for category in ("dns_error", "connection_refused", "connection_error", "timeout",
                     "tls_error", "redirect", "not_found", "method_not_allowed", "rate_limited",
                     "server_error", "not_json", "invalid_token_response", "invalid_request",
                     "invalid_grant", "invalid_scope"):
        assert GUIDE_REACH not in hints_for(Failure(category, "m"), CTX_CC), category
    # The provider refused the client without a reason, or with its own code.
    for failure in (Failure("invalid_client", "m"), Failure("http_error", "m", http_status=401),
                    Failure("http_error", "m", http_status=400),
                    Failure("oauth_error", "m", oauth_error="unauthorized")):
        assert hints_for(failure, CTX_CC)[-1] == GUIDE_REACH, failure.category
    # A client without a secret (public, or with a key): the guide's "Client Secret"
    # cannot be the cause.
    for method in ("none", "private_key_jwt", "tls_client_auth"):
        ctx = replace(CTX_CC, client_auth=method)
        for category in ("invalid_client", "http_error", "oauth_error"):
            assert GUIDE_REACH not in hints_for(Failure(category, "m", http_status=401), ctx), (
                method, category)


def test_one_second_is_singular():
    failure = Failure("rate_limited", "m", details={"retry_after": "1"})
    assert hints_for(failure, CTX_CC)[0] == "Wait 1 second before trying again."


def test_a_redirect_to_a_token_endpoint_gives_the_ready_command_and_nothing_contrary():
    failure = Failure("redirect", "m", details={
        "location": "https://login.example.com/tenant/oauth2/v2.0/token"})
    assert hints_for(failure, CTX_CC) == [
        "The provider sends token requests on to "
        "https://login.example.com/tenant/oauth2/v2.0/token, which looks like its token "
        "endpoint: save it with: astra-auth configure payments-api --token-url "
        "https://login.example.com/tenant/oauth2/v2.0/token --no-input",
        "astra-auth never re-sends credentials to a redirect's location: the saved URL must "
        "be the one that answers.",
    ]
    login = Failure("redirect", "m", details={"location": "https://idp.example.com/login"})
    assert "looks like its token endpoint" not in " ".join(hints_for(login, CTX_CC))


def test_a_404_cites_no_discovery_document_that_was_not_found(cli, faults):
    _add(cli, "pay", faults.url(f"{uuid.uuid4().hex}/tokn"), environ={
        "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = _test_token_json(cli, "pay", 6, metadata_lookup="network")
    assert data["error"]["category"] == "not_found"
    assert not any("well-known" in hint for hint in data["hints"])


def test_a_404_cites_the_discovery_document_under_the_token_urls_prefix(cli, faults):
    # django-oauth-toolkit serves its metadata under /o/, beside its /o/token/.
    prefix = f"{uuid.uuid4().hex}/o"
    issuer = faults.url(prefix)
    faults.answer(f"{prefix}/.well-known/openid-configuration", {
        "issuer": issuer, "token_endpoint": f"{issuer}/token/",
        "authorization_endpoint": f"{issuer}/authorize/"})
    _add(cli, "pay", f"{issuer}/tokn/", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = _test_token_json(cli, "pay", 6, metadata_lookup="network")
    assert data["hints"][0] == (
        f"The provider's discovery document ({issuer}/.well-known/openid-configuration) names "
        f"the token endpoint {issuer}/token/: astra-auth configure pay --token-url "
        f"{issuer}/token/ --no-input")


def test_a_token_that_lives_one_second_says_second(cli, faults):
    url = faults.answer(f"{uuid.uuid4().hex}/token", {
        "access_token": "tk-opaque-short-lived-4f1c", "token_type": "Bearer",
        "expires_in": 1})
    _add(cli, "pay", url, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = _test_token_json(cli, "pay", 0, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert any(w.startswith("The token expires in 1 second: ") for w in data["warnings"])


# ---------------------------------------------------------------------------
# 4. The target picker: typed names, no default that edits, the URL offered again

CC_STEPS = [
    Step("select", "Authentication type", 0),
    Step("select", "Grant type", 0),
    Step("select", "Access Token URL", 0),
    Step("text", "Access Token URL", "https://idp.example.com/oauth/token"),
    Step("text", "Client ID", "scanner-app"),
    Step("select", "Client authentication", 0),
    Step("secret", "Client secret", CLIENT_SECRET),
    Step("text", "Scope", ""), Step("text", "Audience", ""),
    Step("text", "Extra token parameters", ""),
]
SAVE_NO_TEST = [Step("confirm", "Save", True), Step("confirm", "Run test-token", False)]
PICK = "Target: a number, an existing name, or a new name"


def _configured(cli, name="payments-api", url="https://api.example.com"):
    cli("configure", name, "--url", url, "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/oauth/token", "--client-id", "scanner-app",
        "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")


def test_enter_at_the_picker_edits_nothing_and_a_typed_existing_name_says_so(cli, config_path):
    _configured(cli)
    before = config_path.read_bytes()
    prompter = ScriptedPrompter([
        Step("text", PICK, ""),  # a reflexive Enter: asked again, nothing chosen
        Step("text", PICK, "payments-api"),
        Step("select", "Which setting?", None),
        Step("confirm", "Save", False),
        Step("select", "Change a setting, or discard everything?", 1),
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert "Type a number from the list or a target name. Try again." in result.err
    assert "Editing existing target payments-api." in result.err
    assert config_path.read_bytes() == before


def test_a_new_typed_name_creates_a_target_beside_the_existing_ones(cli, config_path):
    _configured(cli)
    prompter = ScriptedPrompter([
        Step("text", PICK, "orders-api"),
        NO_DOCUMENT,
        Step("text", "API URL", "https://orders.example.com"),
        *CC_STEPS, *SAVE_NO_TEST,
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert "Creating a new target orders-api." in result.err
    assert sorted(tomllib.loads(config_path.read_text())["targets"]) == [
        "orders-api", "payments-api"]


def test_the_api_url_is_offered_again_when_editing(cli, config_path):
    cli("targets", "add", "bare", "--url", "https://old.example.com")
    # A target with no auth yet: the whole walk-through, the URL offered first.
    prompter = ScriptedPrompter([
        NO_DOCUMENT,
        Step("text", "API URL (the API under test, e.g. https://api.example.com) — Enter "
                     "keeps it", "https://new.example.com"),
        *CC_STEPS, *SAVE_NO_TEST,
    ])
    cli("configure", "bare", tty=True, prompter=prompter)
    assert tomllib.loads(config_path.read_text())["targets"]["bare"]["url"] == \
        "https://new.example.com"


def test_the_api_url_prompt_shows_an_api_url_example(cli):
    prompter = ScriptedPrompter([
        Step("text", "Target name", "pay"),
        NO_DOCUMENT,
        Step("text", "API URL", "api.example.com"),
        Step("text", "API URL", ""),
        *CC_STEPS, *SAVE_NO_TEST,
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert ("the URL must start with https:// (for example https://api.example.com). "
            "Try again.") in result.err
    assert "oauth/token)" not in result.err.split("Try again.")[0]


# ---------------------------------------------------------------------------
# 5. Editing: "which setting?" first, the summary marks what changed


def test_changing_one_value_takes_one_choice_and_the_summary_marks_it(cli, config_path, store):
    _configured(cli)
    prompter = ScriptedPrompter([
        Step("text", PICK, "1"),
        Step("select", "Which setting?", 4),  # API URL, type, grant, token URL, Client ID
        Step("text", "Client ID", "scanner-app-2"),
        Step("select", "Which setting?", None),  # Enter: done
        *SAVE_NO_TEST,
    ])
    result = cli("configure", tty=True, prompter=prompter)
    changed = [line for line in result.out.splitlines() if "← changed" in line]
    assert len(changed) == 1 and "scanner-app-2" in changed[0]
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["client_id"] == "scanner-app-2"
    assert store.data["payments-api:client_secret"] == CLIENT_SECRET


def test_switching_the_grant_in_the_menu_asks_what_the_new_grant_needs(cli, config_path, store):
    from tests.fakes import PASSWORD

    _configured(cli)
    prompter = ScriptedPrompter([
        Step("text", PICK, "payments-api"),
        Step("select", "Which setting?", 2),  # Grant type: the rest is offered again
        Step("select", "Grant type", 1),
        Step("text", "Access Token URL", None),
        Step("text", "Client ID", None),
        Step("select", "Client authentication", None),
        Step("secret", "Enter keeps the stored one", ""),
        Step("text", "Username", "john.doe"),
        Step("secret", "Password (hidden)", PASSWORD),
        Step("text", "Scope", None), Step("text", "Audience", None),
        Step("text", "Extra token parameters", None),
        Step("select", "Which setting?", None),
        *SAVE_NO_TEST,
    ])
    cli("configure", tty=True, prompter=prompter)
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["grant_type"] == "password" and oauth["username"] == "john.doe"
    assert store.data["payments-api:password"] == PASSWORD


# ---------------------------------------------------------------------------
# 6. A failed test after the walk-through offers to enter the secret again


def test_a_refused_secret_can_be_entered_again_and_tested_again(cli, idp, store, leaks):
    leaks.watch(WRONG_SECRET)
    prompter = ScriptedPrompter([
        Step("text", "Target name", "pay"),
        NO_DOCUMENT,
        Step("text", "API URL", ""),
        Step("select", "Authentication type", 0),
        Step("select", "Grant type", 0),
        Step("select", "Access Token URL", 0),
        Step("text", "Access Token URL", idp.token_url),
        Step("text", "Client ID", "scanner-app"),
        Step("select", "Client authentication", 0),
        Step("secret", "Client secret", WRONG_SECRET),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True),
        Step("confirm", "Run test-token", True),
        Step("confirm", "Enter the client secret again and test again?", True),
        Step("secret", "Client secret (hidden; Enter keeps the stored one)", CLIENT_SECRET),
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert "pay: invalid_client" in result.out
    assert "Saved the new client secret for pay." in result.err
    assert "pay: token obtained" in result.out
    assert store.data["pay:client_secret"] == CLIENT_SECRET


def test_declining_to_enter_it_again_ends_with_the_tests_exit_code(cli, idp, leaks):
    leaks.watch(WRONG_SECRET)
    prompter = ScriptedPrompter([
        Step("text", "Target name", "pay"),
        NO_DOCUMENT,
        Step("text", "API URL", ""),
        Step("select", "Authentication type", 0),
        Step("select", "Grant type", 0),
        Step("select", "Access Token URL", 0),
        Step("text", "Access Token URL", idp.token_url),
        Step("text", "Client ID", "scanner-app"),
        Step("select", "Client authentication", 0),
        Step("secret", "Client secret", WRONG_SECRET),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True),
        Step("confirm", "Run test-token", True),
        Step("confirm", "Enter the client secret again", False),
    ])
    cli("configure", tty=True, prompter=prompter, expect=4)


# ---------------------------------------------------------------------------
# 11. Small things


def _unsigned_jwt() -> str:
    import base64

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return part({"alg": "none", "typ": "JWT"}) + "." + part({"sub": "scanner"}) + "."


def test_an_unsigned_jwt_is_warned_about_and_its_header_shown(cli, faults, leaks):
    token = _unsigned_jwt()
    leaks.watch(token)
    url = faults.answer(f"{uuid.uuid4().hex}/token", {
        "access_token": token, "token_type": "Bearer", "expires_in": 300})
    _add(cli, "pay", url, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    data = _test_token_json(cli, "pay", 0, environ=env)
    assert ("The token's JWT header says alg: none: it is not signed, so an API that accepts it "
            "would accept a forged one too. Ask the provider to sign its tokens.") in data["warnings"]
    panel = cli("test-token", "pay", environ=env).out
    assert "JWT header:" in panel and re.search(r"alg\s+none", panel)


# ---------------------------------------------------------------------------
# 8. A private or loopback token URL: warned once, acknowledged in the target


def test_a_loopback_token_url_is_warned_once_and_kept_as_acknowledged(cli, idp, config_path):
    from astra_auth.net.resolve import private_address_warning

    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    warned = ("127.0.0.1 resolves to loopback address 127.0.0.1: a scanner outside that "
              "network cannot reach it")
    first = cli("configure", "pay", "--grant-type", "client_credentials", "--token-url",
                idp.token_url, "--client-id", "scanner-app", environ=env,
                address_warning=private_address_warning)
    assert warned in first.err
    # Said in the user's terms, not the config file's.
    assert ("This warning is given once: test-token does not repeat it, and astra-auth "
            "targets show pay keeps a note of it") in first.err
    assert "private_host_ok" not in first.err
    target = tomllib.loads(config_path.read_text())["targets"]["pay"]
    assert target["private_host_ok"] == "127.0.0.1"
    # Said once: not again when configure runs again, nor in the panels.
    again = cli("configure", "pay", "--client-auth", "basic", environ=env,
                address_warning=private_address_warning)
    assert warned not in again.err
    panel = cli("test-token", "pay", environ=env, address_warning=private_address_warning)
    assert "loopback" not in panel.out
    lines = cli("test-token", "--all", environ=env, address_warning=private_address_warning)
    assert "loopback" not in lines.out
    # Kept for machines: the JSON warnings, and targets show.
    data = _test_token_json(cli, "pay", 0, environ=env, address_warning=private_address_warning)
    assert warned in data["warnings"]
    shown = cli("targets", "show", "pay").out
    assert "127.0.0.1 resolves to a private or loopback address (acknowledged at configure)" \
        in " ".join(shown.split())
    assert json.loads(cli("targets", "show", "pay", "--json").out)["private_host_ok"] == \
        "127.0.0.1"


def test_a_new_public_token_url_drops_the_acknowledgement(cli, idp, config_path):
    from astra_auth.net.resolve import private_address_warning

    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    cli("configure", "pay", "--grant-type", "client_credentials", "--token-url",
        idp.token_url, "--client-id", "scanner-app", environ=env,
        address_warning=private_address_warning)
    cli("configure", "pay", "--token-url", "https://idp.example.com/oauth/token", environ=env,
        address_warning=lambda url: None)
    assert "private_host_ok" not in tomllib.loads(config_path.read_text())["targets"]["pay"]


# ---------------------------------------------------------------------------
# 12. doctor


def test_doctor_names_the_variable_that_overrides_a_stored_secret(cli):
    _add(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    result = cli("doctor", environ={"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET})
    lines = result.out.splitlines()
    assert ("! Secrets from variables: ASTRA_AUTH_CLIENT_SECRET overrides the stored client "
            "secret of pay") in lines
    assert ("  - To fix: if the stored secret is the right one: unset ASTRA_AUTH_CLIENT_SECRET"
            in lines)
    assert any(line.startswith("✓ Keyring: ") and line.endswith("unlocked and answering")
               for line in lines)
    assert any(line.startswith("✓ Config file: ") and "(1 target; mode 0600, folder 0700)" in line
               for line in lines)


def test_doctor_names_a_broken_config_file_once(cli, config_path):
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text("version = 1\n[targets.pay\n")
    config_path.chmod(0o600)
    first = cli("doctor", expect=3).out.splitlines()[0]
    assert first.startswith(f"✗ Config file: {config_path}: is not valid TOML")
    assert first.count(str(config_path)) == 1


def test_doctor_lists_each_variable_on_its_own_line(cli):
    _add(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    cli("configure", "keyed", "--auth-type", "api_key", "--key-name", "X-Key", "--secrets",
        "env")
    lines = cli("doctor", environ={"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET,
                                   "ASTRA_AUTH_KEYED_API_KEY": "k-value-1"}).out.splitlines()
    start = lines.index("! Secrets from variables:")
    assert lines[start + 1:start + 4] == [
        "  ASTRA_AUTH_KEYED_API_KEY supplies the API key of keyed",
        "  ASTRA_AUTH_CLIENT_SECRET overrides the stored client secret of pay",
        "  - To fix: if the stored secret is the right one: unset ASTRA_AUTH_CLIENT_SECRET"]


def test_doctor_json_reports_a_locked_keyring_with_exit_3(cli):
    data = json.loads(cli("doctor", "--json", expect=3, secrets=_broken()).out)
    assert data["ok"] is False
    keyring = next(c for c in data["checks"] if c["name"] == "keyring")
    assert keyring["status"] == "error"
    assert keyring["detail"].startswith("The OS keyring is not usable: the keyring is locked; "
                                        "backend ")
    assert [c["name"] for c in data["checks"]] == [
        "config_file", "keyring", "secret_variables", "proxy", "trust_store"]


def test_doctor_shows_proxies_without_their_credentials(cli, leaks):
    proxy_secret = "px-Marmot4:Quince8-HHv"
    leaks.watch(proxy_secret)
    data = json.loads(cli("doctor", "--json", environ={
        "HTTPS_PROXY": f"http://scanner:{proxy_secret}@proxy.example.com:3128",
        "NO_PROXY": "localhost,.internal"}).out)
    proxy = next(c for c in data["checks"] if c["name"] == "proxy")
    assert proxy["detail"] == ("HTTPS_PROXY=http://proxy.example.com:3128, "
                               "NO_PROXY=localhost,.internal (never used for loopback hosts)")


def test_doctor_finds_loose_permissions_and_a_missing_ca_file(cli, config_path):
    cli("targets", "add", "pay")
    config_path.chmod(0o644)
    result = cli("doctor", expect=3, environ={"SSL_CERT_FILE": "/nonexistent/ca.pem"})
    assert f"  - To fix: chmod 600 {config_path}" in result.out.splitlines()
    assert ("✗ Trust store: the operating system's trust store (truststore), plus "
            "SSL_CERT_FILE=/nonexistent/ca.pem: does not exist") in result.out.splitlines()


HELP_EXAMPLES = {
    "configure": "astra-auth configure payments-api",
    "test-token": "astra-auth test-token --all --json",
    "token": "astra-auth token payments-api --format json --min-ttl 300",
    "proxy": "astra-auth proxy alice=8081 bob=8082",
    "completion": "astra-auth completion zsh > ~/.zfunc/_astra-auth",
    "doctor": "astra-auth doctor --json",
    "targets list": "astra-auth targets list --json",
    "targets add": "astra-auth targets add payments-api --url https://api.example.com",
    "targets show": "astra-auth targets show payments-api --json",
    "targets remove": "astra-auth targets remove payments-api --yes",
}


def test_each_commands_help_ends_with_examples_and_words_for_placeholders(cli):
    for path, example in HELP_EXAMPLES.items():
        text = cli(*path.split(), "--help").out
        tail = text[text.rindex("\nExamples:\n"):].splitlines()[2:]
        assert 1 <= len(tail) <= 3 and all(line.startswith("  ") for line in tail), path
        assert f"  {example}" in tail, path
        assert not re.search(r"<[a-z ]+>", text), (path, text)  # no <float range>, <str>
    assert "--timeout SECONDS" in cli("test-token", "--help").out
    assert "--token-url URL" in cli("configure", "--help").out
    assert "--config PATH" in cli("--help").out


def test_taglines_speak_of_every_auth_type_not_only_oauth():
    from importlib.metadata import metadata

    import astra_auth

    tagline = ("Tell an API security scanner how to authenticate to the API it tests, and keep "
               "it authenticated for the whole scan.")
    assert metadata("astra-auth")["Summary"] == tagline
    assert " ".join(str(astra_auth.__doc__).split()).startswith(
        "astra-auth: tell an API security scanner how to authenticate to the API it tests, "
        "and keep it authenticated for the whole scan.")


def test_the_help_tagline_is_the_products(cli):
    text = " ".join(cli("--help").out.split())
    assert ("Tell an API security scanner how to authenticate to the API it tests, and keep "
            "it authenticated for the whole scan.") in text
    assert ("Set up a target's authentication: a walk-through at a terminal, flags in CI."
            in " ".join(cli("configure", "--help").out.split()))


def test_help_lists_every_command_in_order_with_its_short_help(cli):
    # The list is made without building the commands (astra_auth.cli.group):
    # it must still be the one typer would print.
    text = cli("--help").out
    assert text[text.index("\nCommands:\n"):] == (
        "\nCommands:\n"
        "  configure   Set up a target: a walk-through, or flags in CI.\n"
        "  test-token  Get the credential, check it on the API; say why not.\n"
        "  token       Print a valid credential, for scripts.\n"
        "  login       Log in once (device code, authorization code).\n"
        "  proxy       A local reverse proxy that adds the credential.\n"
        "  exec        Run a command with the credential in its env.\n"
        "  completion  Print the shell's completion script.\n"
        "  doctor      Check this machine: config, keyring, variables, proxy, CAs.\n"
        "  targets     List, add, show and remove targets.\n")
    text = cli("targets", "--help").out
    assert text[text.index("\nCommands:\n"):] == (
        "\nCommands:\n"
        "  list    Every target, with its grant and token URL.\n"
        "  add     Register a target with no authentication yet.\n"
        "  show    A target's settings; secrets only as stored/missing/env.\n"
        "  remove  Remove a target and its keyring entries.\n")
