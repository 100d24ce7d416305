"""Non-interactive `configure`, as CI runs it: flags, stdin, environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.fakes import CLIENT_SECRET, PASSWORD, MemoryStore

GOLDEN = Path(__file__).parent / "golden"
CC = ["--grant-type", "client_credentials", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app"]
PW = ["--grant-type", "password", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app", "--username", "john.doe"]


def test_client_credentials_from_stdin_writes_golden_config(cli, config_path, store):
    result = cli("configure", "payments-api", *CC, "--url", "https://api.example.com",
                 "--scope", "read:things write:things", "--audience", "https://api.example.com",
                 "--client-secret-stdin", "--no-input", stdin=CLIENT_SECRET + "\n")
    assert "Saved target payments-api" in result.err
    assert config_path.read_text() == (GOLDEN / "client_credentials.toml").read_text()
    assert store.data == {"payments-api:client_secret": CLIENT_SECRET}


def test_password_grant_reads_both_secrets_from_two_stdin_lines(cli, config_path, store):
    cli("configure", "hr", *PW, "--client-secret-stdin", "--password-stdin", "--no-input",
        stdin=f"{CLIENT_SECRET}\n{PASSWORD}\n")
    assert config_path.read_text() == (GOLDEN / "password.toml").read_text()
    assert store.data == {"hr:client_secret": CLIENT_SECRET, "hr:password": PASSWORD}


def test_secrets_from_environment_are_stored_in_keyring(cli, store):
    cli("configure", "hr", *PW, environ={
        "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD})
    assert store.data == {"hr:client_secret": CLIENT_SECRET, "hr:password": PASSWORD}


def test_client_credentials_hyphen_spelling_is_accepted(cli, config_path):
    cli("configure", "a", "--grant-type", "client-credentials", *CC[2:],
        environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert 'grant_type = "client_credentials"' in config_path.read_text()


def test_secret_as_flag_value_works_but_warns(cli, store):
    result = cli("configure", "a", *CC, "--client-secret", CLIENT_SECRET)
    assert "process list" in result.err and "shell history" in result.err
    assert store.data["a:client_secret"] == CLIENT_SECRET


def test_missing_values_name_every_missing_flag(cli, config_path):
    result = cli("configure", "hr", "--grant-type", "password", "--no-input", expect=2)
    for flag in ("--token-url", "--client-id", "--username",
                 "--client-secret-stdin (or ASTRA_AUTH_CLIENT_SECRET)",
                 "--password-stdin (or ASTRA_AUTH_PASSWORD)"):
        assert flag in result.err
    assert not config_path.exists()


def test_missing_name_without_terminal_is_usage_error(cli):
    result = cli("configure", *CC, expect=2)
    assert "NAME" in result.err


def test_no_prompt_when_stdin_is_not_a_terminal_even_without_no_input(cli, config_path):
    # The scripted prompter is empty: any prompt would fail the test.
    result = cli("configure", "a", *CC, expect=2)
    assert "--client-secret-stdin" in result.err
    assert not config_path.exists()


def test_no_input_flag_forbids_prompting_at_a_terminal(cli):
    result = cli("configure", "a", *CC, "--no-input", tty=True, expect=2)
    assert "--client-secret-stdin" in result.err


def test_username_with_client_credentials_is_refused(cli, config_path):
    result = cli("configure", "a", *CC, "--username", "john", expect=2)
    assert "--username" in result.err and "client credentials" in result.err
    assert not config_path.exists()


def test_password_stdin_with_client_credentials_is_refused(cli):
    result = cli("configure", "a", *CC, "--password-stdin", stdin="x\n", expect=2)
    assert "--password-stdin" in result.err


def test_rerun_without_secret_keeps_stored_secret(cli, store):
    cli("configure", "a", *CC, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    cli("configure", "a", "--scope", "read", "--no-input")
    assert store.data["a:client_secret"] == CLIENT_SECRET


def test_rerun_keeps_unchanged_settings_and_replaces_given_ones(cli, config_path):
    cli("configure", "a", *CC, "--scope", "read", "--client-secret", CLIENT_SECRET)
    cli("configure", "a", "--client-id", "other-app", "--no-input")
    data = tomllib.loads(config_path.read_text())["targets"]["a"]["oauth2"]
    assert data["client_id"] == "other-app"
    assert data["scope"] == "read"
    cli("configure", "a", "--scope", "", "--no-input")
    assert "scope" not in tomllib.loads(config_path.read_text())["targets"]["a"]["oauth2"]


def test_new_secret_replaces_stored_one(cli, store):
    cli("configure", "a", *CC, "--client-secret", "old-secret-value")
    cli("configure", "a", "--client-secret-stdin", stdin=CLIENT_SECRET + "\n")
    assert store.data["a:client_secret"] == CLIENT_SECRET


def test_switching_to_client_credentials_drops_username_and_password(cli, config_path, store):
    cli("configure", "a", *PW, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                        "ASTRA_AUTH_PASSWORD": PASSWORD})
    cli("configure", "a", "--grant-type", "client_credentials")
    oauth = tomllib.loads(config_path.read_text())["targets"]["a"]["oauth2"]
    assert "username" not in oauth
    assert store.data == {"a:client_secret": CLIENT_SECRET}


def test_secrets_env_stores_nothing_and_removes_old_entries(cli, config_path, store):
    cli("configure", "a", *CC, "--client-secret", CLIENT_SECRET)
    result = cli("configure", "a", "--secrets", "env")
    assert store.data == {}
    assert 'secrets = "env"' in config_path.read_text()
    assert ("ASTRA_AUTH_A_CLIENT_SECRET (or ASTRA_AUTH_CLIENT_SECRET) is not set"
            in result.err)


def test_secrets_env_needs_no_keyring_at_all(cli, config_path):
    broken = MemoryStore()
    broken.fail_on = {"get", "set", "delete"}
    cli("configure", "a", *PW, "--secrets", "env", secrets=broken)
    assert 'secrets = "env"' in config_path.read_text()


def test_secrets_env_with_a_secret_flag_is_refused(cli):
    result = cli("configure", "a", *CC, "--secrets", "env", "--client-secret-stdin",
                 stdin="x\n", expect=2)
    assert "--secrets env" in result.err


def test_keyring_failure_leaves_no_target_and_exits_3(cli, config_path):
    broken = MemoryStore()
    broken.fail_on = {"set"}
    result = cli("configure", "a", *CC, "--client-secret", CLIENT_SECRET, secrets=broken,
                 expect=3)
    assert "keyring is not usable" in result.err
    assert "--secrets env" in result.err
    assert not config_path.exists()


def test_second_secret_failing_rolls_back_the_first(cli, config_path):
    store = MemoryStore({"a:client_secret": "previous-secret"})
    store.fail_on = {"set:a:password"}
    cli("configure", "a", *PW, secrets=store, expect=3,
        environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD})
    assert store.data == {"a:client_secret": "previous-secret"}
    assert not config_path.exists()


def test_config_write_failure_rolls_back_keyring(cli, tmp_path, store):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the config folder should be")
    result = cli("--config", str(blocked / "config.toml"), "configure", "a", *CC,
                 "--client-secret", CLIENT_SECRET, expect=3)
    assert str(blocked) in result.err
    assert store.data == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-url", "ftp://idp.example.com/token"], "must start with https://"),
        (["--token-url", "http://idp.example.com/token"], "must use https"),
        # Plain http only for loopback: not a look-alike name, not a private address.
        (["--token-url", "http://notlocalhost/token"], "must use https"),
        (["--token-url", "http://localhost.example.com/token"], "must use https"),
        (["--token-url", "http://10.0.0.5/token"], "must use https"),
        (["--token-url", "http://192.168.1.1/token"], "must use https"),
        (["--token-url", "https://user:pw@idp.example.com/token"], "user information"),
        (["--token-url", "https://idp.example.com:99999/token"], "invalid port"),
        (["--token-url", "https://idp example.com/token"], "spaces"),
        (["--token-url", "https:///token"], "no host"),
        (["--token-url", "https://idp.example.com/t#frag"], "fragment"),
        (["--token-url", "https://" + "a" * 3000 + ".com/"], "too long"),
        (["--token-url", "not a url"], "spaces"),
        (["--grant-type", "implicit"], "not a grant type"),
        (["--client-auth", "jwt"], "not one of: basic, post"),
        (["--secrets", "file"], "not one of: keyring, env"),
        (["--auth-type", "apikey"], "not one of: oauth2"),
        (["--client-id", ""], "client ID cannot be empty"),
        (["--client-id", "x" * 600], "too long"),
        (["--client-id", "abc\x07def"], "control characters"),
        (["--username", "a\nb"], "control characters"),
        (["--url", "javascript:alert(1)"], "must start with https://"),
        (["--scope", "s" * 3000], "too long"),
    ],
)
def test_malformed_flag_values_are_usage_errors(cli, config_path, args, message):
    base = dict(zip(CC[::2], CC[1::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in base.items() for x in pair]
    result = cli("configure", "a", *flat, "--client-secret", CLIENT_SECRET, expect=2)
    assert message in result.err
    assert "Traceback" not in result.err
    assert not config_path.exists()


def test_userinfo_in_token_url_is_never_echoed(cli, leaks):
    leaks.watch("pa55word-in-url")
    result = cli("configure", "a", *CC[:2], "--token-url",
                 "https://admin:pa55word-in-url@idp.example.com/token", "--client-id", "x",
                 expect=2)
    assert "user information" in result.err


@pytest.mark.parametrize("name", ["bad name", "-leading", "a/b", "é", "x" * 65, "a:b", ""])
def test_bad_target_names_are_refused(cli, name):
    result = cli("configure", *CC, "--client-secret", CLIENT_SECRET, "--", name, expect=2)
    assert "target name" in result.err


def test_conflicting_secret_flags(cli):
    result = cli("configure", "a", *CC, "--client-secret", "x", "--client-secret-stdin",
                 stdin="y\n", expect=2)
    assert "cannot be used together" in result.err


def test_stdin_secret_must_be_one_line(cli):
    result = cli("configure", "a", *CC, "--client-secret-stdin", stdin="", expect=2)
    assert "it was empty" in result.err
    result = cli("configure", "a", *CC, "--client-secret-stdin", stdin="a\nb\n", expect=2)
    assert "2 lines" in result.err


def test_unknown_flag_is_usage_error(cli):
    result = cli("configure", "a", "--client-secrt", "x", expect=2)
    assert "Error: No such option: --client-secrt" in result.err
    assert "(Possible options: --client-auth, --client-secret, --client-secret-stdin)" in result.err


def test_private_address_warning_is_shown(cli):
    result = cli("configure", "a", *CC, "--client-secret", CLIENT_SECRET,
                 address_warning=lambda url: "idp.example.com resolves to private address 10.0.0.5")
    assert "private address 10.0.0.5" in result.err


def test_missing_flags_are_reported_before_the_keyring_is_asked(cli):
    broken = MemoryStore()
    broken.fail_on = {"get", "set", "delete"}
    result = cli("configure", "new", "--grant-type", "client_credentials", secrets=broken,
                 expect=2)
    assert "--token-url" in result.err and "--client-secret-stdin" in result.err
    assert broken.calls == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/token", "http://localhost/token",
                                 "http://[::1]/token", "http://auth.localhost/token",
                                 "http://127.8.9.10/token"])
def test_plain_http_is_accepted_for_loopback_hosts(cli, config_path, url):
    cli("configure", "a", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "c", "--client-secret", CLIENT_SECRET)
    assert f'token_url = "{url}"' in config_path.read_text()


def test_help_lists_assertion_kid(cli):
    result = cli("configure", "--help")
    assert "--assertion-kid" in result.out
    assert "the kid the provider registered the key under" in " ".join(result.out.split())
