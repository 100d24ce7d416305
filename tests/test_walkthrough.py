"""The interactive walk-through, scripted through the prompter interface."""

from __future__ import annotations

import tomllib

import pytest

from tests.fakes import CLIENT_SECRET, NO_DOCUMENT, PASSWORD, MemoryStore, ScriptedPrompter, Step

TOKEN_URL = "https://idp.example.com/oauth/token"


def new_target_steps(grant_index: int, name: str = "payments-api") -> list[Step]:
    return [
        Step("text", "Target name", name),
        NO_DOCUMENT,
        Step("text", "API URL", "https://api.example.com"),
        Step("select", "Authentication type", 0),
        Step("select", "Grant type", grant_index),
        Step("select", "Access Token URL", 0),  # "I have the Access Token URL"
        Step("text", "Access Token URL", TOKEN_URL),
        Step("text", "Client ID", "scanner-app"),
        Step("select", "Client authentication", 0),
        Step("secret", "Client secret", CLIENT_SECRET),
    ]


SAVE = [Step("confirm", "Save", True), Step("confirm", "Run test-token", False)]
OPTIONAL = [
    Step("text", "Scope", "read:things"),
    Step("text", "Audience", ""),
    Step("text", "Extra token parameters", ""),
]


def test_client_credentials_walkthrough_in_contract_order(cli, config_path, store):
    prompter = ScriptedPrompter(
        new_target_steps(0) + OPTIONAL + SAVE
    )
    result = cli("configure", tty=True, prompter=prompter)
    assert "Summary" in result.out
    assert "Client Credentials" in result.out
    assert "•••••• (new, to the OS keyring)" in result.out
    config = tomllib.loads(config_path.read_text())
    oauth = config["targets"]["payments-api"]["oauth2"]
    assert oauth == {
        "grant_type": "client_credentials", "token_url": TOKEN_URL,
        "client_id": "scanner-app", "client_auth": "basic", "scope": "read:things",
        "secrets": "keyring",
    }
    assert store.data == {"payments-api:client_secret": CLIENT_SECRET}


def test_password_walkthrough_asks_username_and_password(cli, config_path, store):
    steps = new_target_steps(1) + [
        Step("text", "Username", "john.doe"),
        Step("secret", "Password", PASSWORD),
    ] + OPTIONAL + SAVE
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert "Resource Owner Password" in result.out
    assert "john.doe" in result.out
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["username"] == "john.doe"
    assert store.data["payments-api:password"] == PASSWORD


def test_invalid_token_url_is_asked_again_with_the_reason(cli, config_path):
    steps = new_target_steps(0)
    steps[6:7] = [
        Step("text", "Access Token URL", "http://idp.example.com/token"),
        Step("text", "Access Token URL", "https://u:p@idp.example.com/token"),
        Step("text", "Access Token URL", "idp.example.com/token"),
        Step("text", "Access Token URL", TOKEN_URL),
    ]
    result = cli("configure", tty=True,
                 prompter=ScriptedPrompter(steps + OPTIONAL + SAVE))
    assert "must use https" in result.err
    assert "user information" in result.err
    assert "must start with https://" in result.err
    assert TOKEN_URL in config_path.read_text()


def test_empty_secret_is_asked_again_when_none_is_stored(cli, store):
    steps = new_target_steps(0)
    steps[9:10] = [Step("secret", "Client secret", ""), Step("secret", "Client secret",
                                                              CLIENT_SECRET)]
    result = cli("configure", tty=True,
                 prompter=ScriptedPrompter(steps + OPTIONAL + SAVE))
    assert "client secret is empty" in result.err
    assert store.data["payments-api:client_secret"] == CLIENT_SECRET


def test_private_address_warning_during_walkthrough(cli):
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + SAVE)
    result = cli("configure", tty=True, prompter=prompter,
                 address_warning=lambda url: "idp.example.com resolves to loopback address")
    assert "loopback address" in result.err


def _configure_once(cli) -> None:
    cli("configure", tty=True, prompter=ScriptedPrompter(
        new_target_steps(1)
        + [Step("text", "Username", "john.doe"), Step("secret", "Password", PASSWORD)]
        + OPTIONAL + SAVE))


def test_rerun_offers_current_values_and_enter_keeps_secrets(cli, config_path, store):
    _configure_once(cli)
    before = config_path.read_text()
    # None means "press Enter": take the default that is offered ("Done").
    rerun = ScriptedPrompter([
        Step("text", "Target: a number, an existing name, or a new name", "1"),
        Step("select", "Which setting?", None),
        *SAVE,
    ])
    result = cli("configure", tty=True, prompter=rerun)
    assert "Editing existing target payments-api." in result.err
    assert "stored, unchanged" in result.out
    assert "changed" not in result.out.replace("unchanged", "")
    assert config_path.read_text() == before
    assert store.data == {"payments-api:client_secret": CLIENT_SECRET,
                          "payments-api:password": PASSWORD}


def test_dash_removes_an_optional_value(cli, config_path):
    _configure_once(cli)
    # The menu: API URL, type, grant, token URL, client ID, client authentication,
    # client secret, username, password, scope (9), audience, Done.
    rerun = ScriptedPrompter([
        Step("text", "Target: a number", "payments-api"),
        Step("select", "Which setting?", 9),
        Step("text", "'-' removes it", "-"),
        Step("select", "Which setting?", None),
        *SAVE,
    ])
    result = cli("configure", tty=True, prompter=rerun)
    assert "scope" not in config_path.read_text()
    scope_row = next(line for line in result.out.splitlines() if "Scope" in line)
    assert "← changed" in scope_row
    assert sum("← changed" in line for line in result.out.splitlines()) == 1


def test_declining_the_summary_saves_nothing(cli, config_path, store):
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + [Step("confirm", "Save", False)])
    result = cli("configure", tty=True, prompter=prompter)
    assert "Nothing was saved" in result.err
    assert not config_path.exists()
    assert store.data == {}


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, EOFError])
@pytest.mark.parametrize("at", range(len(new_target_steps(0)) + len(OPTIONAL) + 1))
def test_interrupt_at_any_prompt_changes_nothing(cli, config_path, store, interrupt, at):
    _configure_once(cli)
    before = config_path.read_bytes()
    secrets_before = dict(store.data)
    steps = ([Step("text", "Target: a number", "other-api")] + new_target_steps(0, "other-api")[1:]
             + OPTIONAL + [Step("confirm", "Save", True)])
    steps[at] = Step(steps[at].kind, steps[at].prompt, interrupt)
    prompter = ScriptedPrompter(steps[: at + 1])
    result = cli("configure", tty=True, prompter=prompter, expect=130)
    assert result.err.strip().splitlines()[-1] == "Aborted; nothing was changed."
    assert config_path.read_bytes() == before
    assert store.data == secrets_before


def test_flags_given_at_a_terminal_skip_their_prompts(cli, store):
    prompter = ScriptedPrompter([
        Step("text", "API URL", ""),
        Step("secret", "Client secret", CLIENT_SECRET),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        *SAVE,
    ])
    cli("configure", "new-one", "--grant-type", "client_credentials", "--token-url", TOKEN_URL,
        "--client-id", "abc", "--client-auth", "post", "--auth-type", "oauth2",
        tty=True, prompter=prompter)
    assert store.data == {"new-one:client_secret": CLIENT_SECRET}


def test_unusable_keyring_is_said_before_the_first_question_and_stop_stops(cli, config_path):
    broken = MemoryStore()
    broken.fail_on = {"get"}
    prompter = ScriptedPrompter([Step("select", "Where should this target's secrets live?", 1)])
    result = cli("configure", tty=True, prompter=prompter, secrets=broken, expect=3)
    assert result.err.startswith("! The OS keyring is not usable: the keyring is locked")
    assert not config_path.exists()


def test_unusable_keyring_offers_env_mode_and_names_the_variables(cli, config_path):
    broken = MemoryStore()
    broken.fail_on = {"get", "set", "delete"}
    steps = new_target_steps(0)[:9] + OPTIONAL + SAVE  # no secret asked in env mode
    prompter = ScriptedPrompter(
        [Step("select", "Where should this target's secrets live?", 0)] + steps)
    result = cli("configure", tty=True, prompter=prompter, secrets=broken)
    assert "Client secret: not stored; read from ASTRA_AUTH_CLIENT_SECRET" not in result.err
    assert ("Set ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET where astra-auth runs" in result.err)
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["secrets"] == "env"


def test_a_keyring_that_fails_only_at_save_offers_to_save_the_other_settings(
        cli, config_path):
    failing = MemoryStore()
    failing.fail_on = {"set"}  # answers reads, refuses writes: locked half-way
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + [
        Step("confirm", "Save these settings", True),
        Step("confirm", "Save the other settings", True),
        Step("confirm", "Run test-token", False)])
    result = cli("configure", tty=True, prompter=prompter, secrets=failing)
    assert "The OS keyring is not usable: the keyring is locked" in result.err
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["secrets"] == "env" and oauth["client_id"] == "scanner-app"
    assert failing.data == {}
