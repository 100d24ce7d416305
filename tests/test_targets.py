"""`targets list|add|show|remove`."""

from __future__ import annotations

import json

from tests.fakes import CLIENT_SECRET, PASSWORD, MemoryStore, ScriptedPrompter, Step

CC = ["--grant-type", "client_credentials", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app"]
PW = ["--grant-type", "password", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "hr-app", "--username", "john.doe"]


def test_list_json_has_every_target_in_contract_fields(cli):
    cli("targets", "add", "bare", "--url", "https://api.example.com")
    cli("configure", "cc", *CC, "--client-secret", CLIENT_SECRET)
    rows = json.loads(cli("targets", "list", "--json").out)
    assert rows == [
        {"name": "bare", "url": "https://api.example.com", "auth_type": None,
         "grant_type": None, "token_url": None},
        {"name": "cc", "url": None, "auth_type": "oauth2", "grant_type": "client_credentials",
         "token_url": "https://idp.example.com/oauth/token"},
    ]


def test_list_json_is_indented_two_spaces_and_ascii_escaped(cli):
    # The exact text, not only what it parses to: scripts diff it, and the
    # list is written by hand for speed (commands/targets.json_rows).
    cli("targets", "add", "b", "--url", "https://b\u00fccher.example/\u00e9?q=\"x\"")
    cli("targets", "add", "a")
    assert cli("targets", "list", "--json").out == (
        '[\n'
        '  {\n'
        '    "name": "a",\n'
        '    "url": null,\n'
        '    "auth_type": null,\n'
        '    "grant_type": null,\n'
        '    "token_url": null\n'
        '  },\n'
        '  {\n'
        '    "name": "b",\n'
        '    "url": "https://b\\u00fccher.example/\\u00e9?q=\\"x\\"",\n'
        '    "auth_type": null,\n'
        '    "grant_type": null,\n'
        '    "token_url": null\n'
        '  }\n'
        ']\n')


def test_list_human_shows_table_and_empty_state(cli):
    assert "No targets yet" in cli("targets", "list").err
    assert json.loads(cli("targets", "list", "--json").out) == []
    cli("configure", "cc", *CC, "--client-secret", CLIENT_SECRET)
    out = cli("targets", "list").out
    assert "cc" in out and "Client Credentials" in out


def test_add_refuses_duplicates_and_bad_names(cli):
    cli("targets", "add", "a")
    assert "already exists" in cli("targets", "add", "a", expect=2).err
    assert "target name" in cli("targets", "add", "--", "-x", expect=2).err
    assert "user information" in cli("targets", "add", "b", "--url",
                                     "https://u:p@h.example.com", expect=2).err


def test_show_reports_secret_states_never_values(cli, store):
    cli("configure", "hr", *PW, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                         "ASTRA_AUTH_PASSWORD": PASSWORD})
    data = json.loads(cli("targets", "show", "hr", "--json").out)
    assert data["secrets"] == {"client_secret": "stored", "password": "stored"}
    assert data["oauth2"]["username"] == "john.doe"
    del store.data["hr:password"]
    data = json.loads(cli("targets", "show", "hr", "--json").out)
    assert data["secrets"] == {"client_secret": "stored", "password": "missing"}
    data = json.loads(cli("targets", "show", "hr", "--json",
                          environ={"ASTRA_AUTH_PASSWORD": "from-env"}).out)
    assert data["secrets"]["password"] == "env"
    human = cli("targets", "show", "hr").out
    assert "stored" in human and "john.doe" in human


def test_show_pads_no_line_with_trailing_spaces(cli):
    cli("configure", "hr", *PW, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                         "ASTRA_AUTH_PASSWORD": PASSWORD})
    cli("configure", "k", "--auth-type", "api_key", "--key-name", "X-API-Key", "--secrets",
        "env")
    cli("targets", "add", "bare")
    for name in ("hr", "k", "bare"):
        lines = cli("targets", "show", name).out.splitlines()
        assert [line for line in lines if line != line.rstrip()] == [], name
    lines = cli("targets", "show", "hr").out.splitlines()
    assert "Client ID              hr-app" in lines
    assert "Password               stored" in lines
    assert "API key          missing" in cli("targets", "show", "k").out.splitlines()


def test_show_env_mode_without_variable_is_missing(cli):
    cli("configure", "e", *CC, "--secrets", "env")
    data = json.loads(cli("targets", "show", "e", "--json").out)
    assert data["secrets"] == {"client_secret": "missing"}


def test_show_unknown_target_suggests_the_closest_name(cli):
    cli("targets", "add", "alpha")
    cli("targets", "add", "payments-api")
    result = cli("targets", "show", "payment-api", expect=3)
    assert "no target named 'payment-api'" in result.err
    assert "→ Did you mean 'payments-api'?" in result.err
    assert "alpha" not in result.err  # not a list of every name
    result = cli("targets", "show", "zzz", expect=3)
    assert "→ See them all with: astra-auth targets list" in result.err


def test_remove_of_an_unknown_name_does_not_suggest_creating_it(cli):
    cli("targets", "add", "payments-api")
    result = cli("targets", "remove", "payments", "--yes", expect=3)
    assert "→ Did you mean 'payments-api'?" in result.err
    assert "configure" not in result.err


def test_remove_deletes_keyring_entries(cli, store):
    cli("configure", "hr", *PW, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                         "ASTRA_AUTH_PASSWORD": PASSWORD})
    store.data["hr:token"] = "cached"
    cli("targets", "remove", "hr", "--yes")
    assert store.data == {}
    assert json.loads(cli("targets", "list", "--json").out) == []


def test_remove_without_yes_and_without_terminal_is_usage_error(cli, config_path):
    cli("targets", "add", "a")
    before = config_path.read_text()
    assert "--yes" in cli("targets", "remove", "a", expect=2).err
    assert config_path.read_text() == before


def test_remove_asks_at_a_terminal(cli, config_path):
    cli("targets", "add", "a")
    cli("targets", "remove", "a", tty=True,
        prompter=ScriptedPrompter([Step("confirm", "Remove target a", False)]))
    assert "[targets.a]" in config_path.read_text()
    cli("targets", "remove", "a", tty=True,
        prompter=ScriptedPrompter([Step("confirm", "Remove target a", True)]))
    assert "[targets.a]" not in config_path.read_text()


def test_remove_keeps_target_when_keyring_fails(cli, config_path):
    cli("configure", "a", *CC, "--client-secret", CLIENT_SECRET)
    broken = MemoryStore({"a:client_secret": CLIENT_SECRET})
    broken.fail_on = {"delete"}
    cli("targets", "remove", "a", "--yes", secrets=broken, expect=3)
    assert "[targets.a]" in config_path.read_text()


def test_remove_env_target_works_without_keyring(cli, config_path):
    cli("configure", "a", *CC, "--secrets", "env")
    broken = MemoryStore()
    broken.fail_on = {"get", "set", "delete"}
    cli("targets", "remove", "a", "--yes", secrets=broken)
    assert "[targets.a]" not in config_path.read_text()


def test_a_closed_pipe_ends_quietly(proc):
    import subprocess
    import sys

    proc("targets", "add", "a")
    # Make the list long enough to overflow a pipe buffer, then close the pipe early.
    import tomli_w

    data = {"version": 1, "targets": {f"t{i:05d}": {"url": f"https://a{i}.example.com"}
                                      for i in range(5000)}}
    proc.config_path.write_text(tomli_w.dumps(data))
    child = subprocess.Popen([sys.executable, "-m", "astra_auth", "targets", "list"],
                             env=proc.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.readline()
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=30) == 0
    assert "Traceback" not in err and "internal error" not in err
