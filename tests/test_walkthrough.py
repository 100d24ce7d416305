"""The interactive walk-through, scripted through the prompter interface."""

from __future__ import annotations

import io
import tomllib

import pytest

from astra_auth.ui.prompter import Choice
from tests.fakes import (
    CLIENT_SECRET,
    GRANT_TYPES,
    NO_DOCUMENT,
    PASSWORD,
    MemoryStore,
    ScriptedPrompter,
    Step,
    oauth2_steps,
    oauth2_walkthrough,
)

TOKEN_URL = "https://idp.example.com/oauth/token"


def new_target_steps(grant_index: int, name: str = "payments-api") -> list[Step]:
    """Up to the client secret: tests cut and splice this list by position."""
    return oauth2_walkthrough(name, grant=GRANT_TYPES[grant_index], optional=False)


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


DECLINE = [Step("confirm", "Save these settings?", False),
           Step("select", "Change a setting, or discard everything?", 1)]


def test_declining_the_summary_and_discarding_saves_nothing(cli, config_path, store):
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + DECLINE)
    result = cli("configure", tty=True, prompter=prompter)
    assert result.err.splitlines()[-1] == "Nothing was saved."
    assert not config_path.exists()
    assert store.data == {}


def test_declining_the_summary_offers_to_change_a_setting_then_shows_it_again(
        cli, config_path, store):
    """One wrong answer among a dozen costs one question, not all of them; each
    question asked again offers the answer as it stands."""
    # The menu of a new target: API URL, type, grant, token URL, client ID (4),
    # client authentication, client secret, scope (7), audience, Done.
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + [
        Step("confirm", "Save these settings?", False),
        Step("select", "Change a setting, or discard everything?", 0),
        Step("select", "Which setting?", 4),
        Step("text", "Client ID", "other-app"),
        Step("select", "Which setting?", 7),
        Step("text", "Scope", None),  # Enter: the scope as it was answered
        Step("select", "Which setting?", None),  # Done
        *SAVE,
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert result.out.count("Summary") == 2
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["client_id"] == "other-app" and oauth["scope"] == "read:things"
    assert store.data == {"payments-api:client_secret": CLIENT_SECRET}


def test_a_new_targets_summary_has_no_column_of_changes(cli):
    result = cli("configure", tty=True,
                 prompter=ScriptedPrompter(new_target_steps(0) + OPTIONAL + SAVE))
    row = next(line for line in result.out.splitlines() if "Client ID" in line)
    assert row.count("│") == 3  # two columns: the setting and its value


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
    # No secret asked in env mode; no test offered while its variable is not set.
    steps = new_target_steps(0)[:9] + OPTIONAL + [Step("confirm", "Save", True)]
    prompter = ScriptedPrompter(
        [Step("select", "Where should this target's secrets live?", 0)] + steps)
    result = cli("configure", tty=True, prompter=prompter, secrets=broken)
    assert "Client secret: not stored; read from ASTRA_AUTH_CLIENT_SECRET" not in result.err
    assert result.err.splitlines()[-1] == (
        "Set ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET where astra-auth runs (the scanner's "
        "environment, the CI job), then check the target with: astra-auth test-token "
        "payments-api")
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["secrets"] == "env"


def test_env_mode_offers_the_test_once_the_variable_is_set(cli):
    prompter = ScriptedPrompter(new_target_steps(0)[:9] + OPTIONAL + SAVE)
    result = cli("configure", "--secrets", "env", tty=True, prompter=prompter,
                 environ={"ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET": CLIENT_SECRET})
    assert "Set ASTRA_AUTH" not in result.err
    assert "(secrets read from ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET at run time)" in result.err


def test_a_public_client_is_not_said_to_keep_secrets_in_the_keyring(cli, config_path, store):
    steps = new_target_steps(0)
    steps[8:10] = [Step("select", "Client authentication", 4)]  # none: no secret
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps + OPTIONAL + SAVE))
    assert f"✓ Saved target payments-api to {config_path}." in result.err.splitlines()
    assert "keyring" not in result.err
    assert store.data == {}


def test_a_keyring_that_fails_only_at_save_offers_to_save_the_other_settings(
        cli, config_path):
    failing = MemoryStore()
    failing.fail_on = {"set"}  # answers reads, refuses writes: locked half-way
    prompter = ScriptedPrompter(new_target_steps(0) + OPTIONAL + [
        Step("confirm", "Save these settings", True),
        Step("confirm", "Save the other settings", True)])
    result = cli("configure", tty=True, prompter=prompter, secrets=failing)
    assert "The OS keyring is not usable: the keyring is locked" in result.err
    assert "Set ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET where astra-auth runs" in result.err
    oauth = tomllib.loads(config_path.read_text())["targets"]["payments-api"]["oauth2"]
    assert oauth["secrets"] == "env" and oauth["client_id"] == "scanner-app"
    assert failing.data == {}


# ---------------------------------------------------------------------------
# Menus: each option on one line of an 80-column terminal


class MenusSeen(ScriptedPrompter):
    """The scripted prompter, also keeping every menu it was asked to show."""

    def __init__(self, steps: list[Step]) -> None:
        super().__init__(steps)
        self.menus: list[tuple[str, list[Choice], str]] = []

    def select(self, message, choices, default=0, note=""):  # type: ignore[no-untyped-def]
        self.menus.append((message, list(choices), note))
        return super().select(message, choices, default, note)


def _shown(menu: tuple[str, list[Choice], str], width: int) -> list[str]:
    """The menu's lines as a terminal of `width` columns shows them."""
    from rich.console import Console

    from astra_auth.ui.prompter import show_menu

    console = Console(file=io.StringIO(), width=width, color_system=None)
    show_menu(console, *menu)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def _walkthrough_menus(cli) -> list[tuple[str, list[Choice], str]]:
    """Every menu of a new OAuth 2.0 target whose summary is declined once,
    and of the other types' own questions and the keyring's."""
    from astra_auth.commands.configure import DECLINED_CHOICES, KEYRING_CHOICES, api_key, jwt

    prompter = MenusSeen(new_target_steps(0) + OPTIONAL + [
        Step("confirm", "Save these settings?", False),
        Step("select", "Change a setting, or discard everything?", 0),
        Step("select", "Which setting?", None),
        *SAVE])
    cli("configure", tty=True, prompter=prompter)
    assert [m[0] for m in prompter.menus] == [
        "Authentication type", "Grant type", "Access Token URL", "Client authentication",
        "Change a setting, or discard everything?", "Which setting?"]
    return prompter.menus + [
        ("Where the key goes", [c for _, c in api_key.LOCATIONS], ""),
        ("Signing algorithm", [c for _, c in jwt.ALGORITHMS], ""),
        ("Where should this target's secrets live?", KEYRING_CHOICES, ""),
        ("Change a setting, or discard everything?", DECLINED_CHOICES, "")]


def test_every_menu_option_is_one_line_at_80_columns(cli):
    for menu in _walkthrough_menus(cli):
        message, choices, note = menu
        lines = _shown(menu, 80)
        assert len(lines) == 1 + len(choices) + bool(note), lines  # nothing wrapped
        assert all(len(line) <= 80 for line in lines), lines
        for line, choice in zip(lines[1:], choices, strict=False):
            assert line.endswith(choice.help)  # the whole explanation, on the option's line


def test_the_grant_menu_as_it_is_shown():
    from astra_auth.commands.configure.oauth2 import GRANT_CHOICES, GRANT_NOTE

    assert _shown(("Grant type", [c for _, c in GRANT_CHOICES], GRANT_NOTE), 80) == [
        "Grant type",
        "  1) Client Credentials      — no user context: the application acts for itself",
        "  2) Resource Owner Password — one user, whose password astra-auth keeps",
        "  3) Device Code             — one user logs in once, in any browser; MFA works",
        "  4) Authorization Code      — one user logs in once, in this machine's browser",
        "Device Code and Authorization Code keep only a refresh token, not a password.",
    ]


def test_a_narrow_terminal_cuts_an_explanation_short_instead_of_wrapping_it():
    from astra_auth.commands.configure.oauth2 import GRANT_CHOICES

    lines = _shown(("Grant type", [c for _, c in GRANT_CHOICES], ""), 40)
    assert lines[1:] == [
        "  1) Client Credentials      — no user …",
        "  2) Resource Owner Password — one user…",
        "  3) Device Code             — one user…",
        "  4) Authorization Code      — one user…",
    ]


def test_the_edit_menu_shows_a_long_value_on_one_line(cli):
    long_url = "https://login.example.com/realms/scanning-team/protocol/openid-connect/token"
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", long_url,
        "--client-id", "abc", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    prompter = MenusSeen([Step("text", "Target: a number", "t"),
                          Step("select", "Which setting?", None), *SAVE])
    cli("configure", tty=True, prompter=prompter)
    lines = _shown(prompter.menus[0], 80)
    row = next(line for line in lines if "Access Token URL" in line)
    assert row == "   4) Access Token URL      — https://login.example.com/realms/scanning-team/pr…"
    assert "   9) Audience              — not set" in lines


# A wrong client secret that shares no 8-character run with normal output.
WRONG_SECRET = "wq-Zebra7:Ukulele9-QXv"


# ---------------------------------------------------------------------------
# The target picker: typed names, no default that edits, the URL offered again

CC_STEPS = oauth2_steps()
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
# Editing: "which setting?" first, the summary marks what changed


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
# A failed test after the walk-through offers to enter the secret again


def test_a_refused_secret_can_be_entered_again_and_tested_again(cli, idp, store, leaks):
    leaks.watch(WRONG_SECRET)
    prompter = ScriptedPrompter([
        *oauth2_walkthrough("pay", url="", token_url=idp.token_url, secret=WRONG_SECRET),
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
        *oauth2_walkthrough("pay", url="", token_url=idp.token_url, secret=WRONG_SECRET),
        Step("confirm", "Save", True),
        Step("confirm", "Run test-token", True),
        Step("confirm", "Enter the client secret again", False),
    ])
    cli("configure", tty=True, prompter=prompter, expect=4)
