"""The interactive walk-through through a real pseudo-terminal, as a person types it.

These drive `python -m astra_auth configure` with pexpect: real prompts, real
hidden input, the real keyring behind it.
"""

from __future__ import annotations

import io
import sys
import tomllib

import pexpect
import pytest

from tests.fakes import CLIENT_SECRET, PASSWORD

# A new target's first question after its name: the offer to read the API's
# OpenAPI document or Postman collection (Enter: type the settings).
NO_DOCUMENT = "Postman collection? (path, or Enter to type the settings)"
# A loopback token URL needs no https and resolves without DNS, so the warning
# about addresses a scanner cannot reach is shown for real.
TOKEN_URL = "https://127.0.0.1:8443/oauth/token"


class Terminal:
    def __init__(self, proc, *args: str) -> None:
        self.log = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable, ["-m", "astra_auth", *args],
            env=dict(proc.env, TERM="xterm", NO_COLOR="1"),
            encoding="utf-8", dimensions=(40, 140), timeout=20,
        )
        self.child.logfile_read = self.log
        self.proc = proc

    def answer(self, prompt: str, text: str) -> None:
        self.child.expect_exact(prompt)
        if "(hidden" in prompt:
            self.wait_hidden()
        self.child.sendline(text)

    def wait_hidden(self) -> None:
        # getpass switches echo off with TCSAFLUSH, which drops anything typed
        # before; a person cannot type that fast, a test can.  Waiting for echo
        # to go off also proves the input is hidden.
        assert self.child.waitnoecho(timeout=10), "echo was never switched off"

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        screen = self.log.getvalue()
        self.proc.leaks.record("pseudo-terminal", screen)
        assert "Traceback" not in screen, screen
        return self.child.exitstatus

    @property
    def screen(self) -> str:
        return self.log.getvalue()


@pytest.mark.keyring
def test_client_credentials_walkthrough_at_a_real_terminal(proc, real_keyring, idp, leaks):
    name = real_keyring.name("cc")
    term = Terminal(proc, "configure")
    term.answer("Target name", name)
    term.answer(NO_DOCUMENT, "")
    term.answer("API URL", "https://api.example.com")
    term.child.expect_exact("Authentication type")
    term.answer("Choose", "1")
    # Each choice is explained in one line (styles may sit between the parts).
    term.child.expect(r"Client Credentials\S* +\S*— no user context[^\n]*\n")
    term.child.expect(r"Resource Owner Password\S* +\S*— one user, whose password[^\n]*\n")
    term.answer("Choose", "1")
    term.answer("Choose", "1")  # I have the Access Token URL
    term.answer("Access Token URL", "http://idp.example.com/token")
    term.child.expect_exact("must use https")
    term.answer("Access Token URL", idp.token_url)
    term.child.expect_exact("resolves to loopback address 127.0.0.1")
    term.answer("Client ID", "scanner-app")
    term.child.expect_exact("Client authentication")
    term.answer("Choose", "")
    term.answer("Client secret (hidden)", CLIENT_SECRET)
    term.answer("Scope", "read:things")
    term.answer("Audience", "")
    term.answer("Extra token parameters", "")
    term.child.expect_exact("Summary")
    term.answer("Save these settings?", "y")
    term.child.expect_exact(f"Saved target {name}")
    # The offer to test at once, answered yes: a real grant against Authlib's server.
    term.answer("Run test-token now", "y")
    term.child.expect_exact("token obtained")
    assert term.finish() == 0
    leaks.watch(*idp.state.issued)
    assert CLIENT_SECRET not in term.screen  # typed, but never echoed
    assert "•••••• (new, to the OS keyring)" in term.screen
    oauth = tomllib.loads(proc.config_path.read_text())["targets"][name]["oauth2"]
    assert oauth["grant_type"] == "client_credentials"
    assert oauth["token_url"] == idp.token_url
    assert oauth["scope"] == "read:things"
    assert real_keyring.get(f"{name}:client_secret") == CLIENT_SECRET


@pytest.mark.keyring
def test_password_walkthrough_at_a_real_terminal(proc, real_keyring):
    name = real_keyring.name("pw")
    term = Terminal(proc, "configure", name)
    term.answer(NO_DOCUMENT, "")
    term.answer("API URL", "")
    term.answer("Choose", "1")  # OAuth 2.0
    term.answer("Choose", "2")  # Resource Owner Password
    term.answer("Choose", "1")  # I have the Access Token URL
    term.answer("Access Token URL", TOKEN_URL)
    term.answer("Client ID", "hr-app")
    term.answer("Choose", "2")  # post
    term.answer("Client secret (hidden)", CLIENT_SECRET)
    term.answer("Username", "john.doe")
    term.answer("Password (hidden)", PASSWORD)
    term.answer("Scope", "")
    term.answer("Audience", "")
    term.answer("Extra token parameters", "")
    term.answer("Save these settings?", "")
    term.answer("Run test-token now", "n")
    assert term.finish() == 0
    assert CLIENT_SECRET not in term.screen and PASSWORD not in term.screen
    oauth = tomllib.loads(proc.config_path.read_text())["targets"][name]["oauth2"]
    assert oauth["username"] == "john.doe" and oauth["client_auth"] == "post"
    assert real_keyring.get(f"{name}:password") == PASSWORD

    # Re-running offers every current value; Enter keeps them and the secrets.
    before = proc.config_path.read_bytes()
    term = Terminal(proc, "configure", name)
    term.child.expect_exact(f"Editing existing target {name}.")
    # "Which setting?": the current values, and Enter is "Done".
    term.child.expect_exact("Which setting?")
    term.answer("Choose", "")
    term.answer("Save these settings?", "")
    term.answer("Run test-token now", "n")
    assert term.finish() == 0
    assert TOKEN_URL in term.screen and "hr-app" in term.screen
    assert "← changed" not in term.screen
    assert proc.config_path.read_bytes() == before
    assert real_keyring.get(f"{name}:password") == PASSWORD


@pytest.mark.keyring
def test_openapi_document_to_a_passing_test_token_at_a_real_terminal(
        proc, real_keyring, idp, tmp_path, leaks):
    """A path typed at the first question; then only the client ID and the secret
    are typed, everything else is Enter, and the grant succeeds for real."""
    import json

    from tests.test_import_end_to_end import openapi_for

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi_for(idp)))
    name = real_keyring.name("doc")
    term = Terminal(proc, "configure", name)
    term.answer(NO_DOCUMENT, str(document))
    term.child.expect_exact("the security scheme machine:clientCredentials: OAuth 2.0 Client "
                            "Credentials")
    term.answer("Client ID", "scanner-app")
    term.child.expect_exact("Client authentication")
    term.answer("Choose", "")
    term.answer("Client secret (hidden)", CLIENT_SECRET)
    term.answer("Audience", "")
    term.answer("Extra token parameters", "")
    term.answer("Save these settings?", "")
    term.answer("Run test-token now", "")
    term.child.expect_exact(f"{name}: token obtained")
    assert term.finish() == 0
    leaks.watch(*idp.state.issued)
    assert CLIENT_SECRET not in term.screen
    oauth = tomllib.loads(proc.config_path.read_text())["targets"][name]["oauth2"]
    assert (oauth["token_url"], oauth["scope"]) == (idp.token_url, "read:things")
    assert real_keyring.get(f"{name}:client_secret") == CLIENT_SECRET


@pytest.mark.keyring
@pytest.mark.parametrize("key", ["ctrl-c", "ctrl-d"])
def test_interrupt_half_way_changes_nothing(proc, real_keyring, key):
    kept = real_keyring.name("kept")
    proc("configure", kept, "--grant-type", "client_credentials", "--token-url", TOKEN_URL,
         "--client-id", "x", env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    before = proc.config_path.read_bytes()
    name = real_keyring.name("half")
    term = Terminal(proc, "configure", name)
    term.answer(NO_DOCUMENT, "")
    term.answer("API URL", "")
    term.answer("Choose", "1")
    term.answer("Choose", "1")
    term.answer("Choose", "1")  # I have the Access Token URL
    term.answer("Access Token URL", TOKEN_URL)
    term.answer("Client ID", "abc")
    term.answer("Choose", "1")  # basic
    term.child.expect_exact("Client secret (hidden)")
    term.wait_hidden()
    if key == "ctrl-c":
        term.child.sendintr()
    else:
        term.child.sendeof()
    term.child.expect_exact("Aborted; nothing was changed.")
    assert term.finish() == 130
    assert proc.config_path.read_bytes() == before
    assert real_keyring.get(f"{name}:client_secret") is None
    assert real_keyring.get(f"{kept}:client_secret") == CLIENT_SECRET


@pytest.mark.keyring
def test_jwt_walkthrough_at_a_real_terminal(proc, real_keyring, leaks):
    """A type other than OAuth 2.0, typed for real: the signing secret hidden, the
    claims refused once, and test-token signing a JWT from the real keyring."""
    secret = "hsK2v9Qw7Lm4Zp1Xc8Rt6Yb3Nd5Fg0Hj"
    leaks.watch(secret)
    name = real_keyring.name("jw")
    term = Terminal(proc, "configure")
    term.answer("Target name", name)
    term.answer(NO_DOCUMENT, "")
    term.answer("API URL", "")
    term.child.expect_exact("Authentication type")
    term.child.expect(r"JWT \(signed here\)\S*\s+\S*— a short-lived JWT")
    term.answer("Choose", "5")
    term.child.expect_exact("Signing algorithm")
    term.answer("Choose", "1")  # HS256
    term.answer("Signing key (hidden)", secret)
    term.answer("Claims", '{"exp": 1}')
    term.child.expect_exact("exp is set for each token; leave it out")
    term.answer("Claims", '{"sub": "scanner"}')
    term.answer("Lifetime", "")
    term.answer("Header name", "")
    term.answer("Prefix", "")
    term.child.expect_exact("Summary")
    term.answer("Save these settings?", "y")
    term.child.expect_exact(f"Saved target {name}")
    term.answer("Run test-token now", "y")
    term.child.expect_exact(f"{name}: credential ready")
    assert term.finish() == 0
    assert secret not in term.screen
    assert real_keyring.get(f"{name}:signing_key") == secret
    jwt = tomllib.loads(proc.config_path.read_text())["targets"][name]["jwt"]
    assert jwt == {"algorithm": "HS256", "claims": {"sub": "scanner"}, "lifetime": 300,
                   "header_name": "Authorization", "prefix": "Bearer", "secrets": "keyring"}


# ---------------------------------------------------------------------------
# The first hour at a real terminal


def test_no_keyring_is_said_before_the_first_question_and_env_mode_is_offered(proc):
    """With no usable keyring the walk-through says so at once, and a
    target that keeps its secrets in variables is saved with their names."""
    env = dict(proc.env, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    proc.env = env
    term = Terminal(proc, "configure")
    term.child.expect_exact("The OS keyring is not usable")
    first = term.screen
    assert "Target name" not in first  # nothing was asked before
    term.answer("Choose", "1")  # In environment variables
    term.answer("Target name", "ci-api")
    term.answer(NO_DOCUMENT, "")
    term.answer("API URL", "")
    term.answer("Choose", "1")  # OAuth 2.0
    term.answer("Choose", "1")  # Client Credentials
    term.answer("Choose", "1")  # I have the Access Token URL
    term.answer("Access Token URL", TOKEN_URL)
    term.answer("Client ID", "abc")
    term.answer("Choose", "")  # client authentication: the default
    term.child.expect_exact("read from ASTRA_AUTH_CI_API_CLIENT_SECRET")
    term.answer("Scope", "")
    term.answer("Audience", "")
    term.answer("Extra token parameters", "")
    term.answer("Save these settings?", "y")
    # The variable is not set here: no test is offered that could only fail.
    term.child.expect_exact("Set ASTRA_AUTH_CI_API_CLIENT_SECRET where astra-auth runs")
    term.child.expect_exact("then check the target with: astra-auth test-token ci-api")
    assert term.finish() == 0
    assert "Run test-token now" not in term.screen
    oauth = tomllib.loads(proc.config_path.read_text())["targets"]["ci-api"]["oauth2"]
    assert oauth["secrets"] == "env"


def test_no_keyring_and_stop_asks_nothing_more(proc):
    proc.env = dict(proc.env, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    term = Terminal(proc, "configure")
    term.child.expect_exact("Where should this target's secrets live?")
    term.answer("Choose", "2")  # Stop here
    assert term.finish() == 3
    assert "Target name" not in term.screen
    assert not proc.config_path.exists()


@pytest.mark.keyring
def test_the_picker_takes_a_typed_name_and_enter_edits_nothing(proc, real_keyring):
    """At a real terminal: a reflexive Enter chooses nothing; a typed name
    that exists is edited, and it says so."""
    name = real_keyring.name("pick")
    proc("configure", name, "--grant-type", "client_credentials", "--token-url", TOKEN_URL,
         "--client-id", "x", env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    before = proc.config_path.read_bytes()
    term = Terminal(proc, "configure")
    term.child.expect_exact(f"1) {name}")
    term.answer("Target: a number, an existing name, or a new name", "")
    term.child.expect_exact("Type a number from the list or a target name. Try again.")
    term.answer("Target: a number, an existing name, or a new name", name)
    term.child.expect_exact(f"Editing existing target {name}.")
    term.child.expect_exact("Which setting?")
    term.answer("Choose", "")
    term.answer("Save these settings?", "n")
    term.child.expect_exact("Change a setting, or discard everything?")
    term.answer("Choose", "2")  # Discard everything
    term.child.expect_exact("Nothing was saved.")
    assert term.finish() == 0
    assert proc.config_path.read_bytes() == before


@pytest.mark.keyring
def test_password_stdin_with_no_input_at_a_terminal_reads_hidden(proc, real_keyring):
    """`--password-stdin --no-input` typed at a terminal never echoes."""
    name = real_keyring.name("pwin")
    term = Terminal(proc, "configure", name, "--grant-type", "password", "--token-url",
                    TOKEN_URL, "--client-id", "hr-app", "--username", "john.doe",
                    "--client-secret-stdin", "--password-stdin", "--no-input")
    term.answer("Client secret for --client-secret-stdin (hidden)", CLIENT_SECRET)
    term.answer("Password for --password-stdin (hidden)", PASSWORD)
    term.child.expect_exact(f"Saved target {name}")
    assert term.finish() == 0
    assert CLIENT_SECRET not in term.screen and PASSWORD not in term.screen
    assert real_keyring.get(f"{name}:password") == PASSWORD
