"""The command line: each command built from its options dataclass, and loaded
only when it is used (astra_auth.cli.group); the help of each command."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
import typer
import typer.main

from astra_auth.cli.app import Commands, TargetsCommands
from astra_auth.cli.group import Command, imported, typer_function
from astra_auth.cli.run import State
from astra_auth.commands import test_token
from astra_auth.commands.configure import ConfigureOptions
from astra_auth.commands.exec import ExecOptions
from astra_auth.proxy import ProxyOptions


def filled(options: type, *args: str) -> object:
    """The options dataclass that the command line `args` fills."""
    seen = []
    app = typer.Typer(add_completion=False)
    app.command()(typer_function(options, lambda opts, deps: seen.append(opts)))
    command = typer.main.get_command(app)
    # The command's function never reaches its dependencies.
    no_deps = State(make_deps=lambda path: None)  # type: ignore[arg-type, return-value]
    command.main(list(args), standalone_mode=False, obj=no_deps)
    (opts,) = seen
    return opts


def test_a_command_line_fills_the_options_dataclass():
    assert filled(ConfigureOptions, "a", "--claim", "x=1", "--claim", "y=2", "--param",
                  "resource=https://api.example.com", "--certificate-bound", "--timeout", "2.5",
                  "--grant-type", "client-credentials", "--client-secret-stdin",
                  ) == ConfigureOptions(
        name="a", claims=("x=1", "y=2"), params=("resource=https://api.example.com",),
        certificate_bound=True, timeout=2.5, grant_type="client-credentials",
        client_secret_stdin=True)


def test_options_not_given_keep_the_dataclass_defaults():
    assert filled(ConfigureOptions) == ConfigureOptions()
    assert filled(ConfigureOptions, "--no-certificate-bound").certificate_bound is False
    assert filled(test_token.TestTokenOptions, "--all", "-v") == test_token.TestTokenOptions(
        all=True, verbose=True)
    assert filled(ExecOptions, "t") == ExecOptions(name="t", command=[])
    assert filled(ExecOptions, "t", "--min-ttl", "5", "--", "curl", "-s") == ExecOptions(
        name="t", command=["curl", "-s"], min_ttl=5.0)


def test_paths_are_paths_and_a_folder_is_refused(tmp_path):
    bundle = tmp_path / "ca.pem"
    assert filled(ConfigureOptions, "--ca-bundle", str(bundle)).ca_bundle == bundle
    with pytest.raises(Exception, match="is a directory"):
        filled(ConfigureOptions, "--ca-bundle", str(tmp_path))


def test_a_required_list_is_required():
    assert filled(ProxyOptions, "a=8081", "b") == ProxyOptions(targets=["a=8081", "b"])
    with pytest.raises(Exception, match="Missing"):
        filled(ProxyOptions)


@pytest.mark.parametrize(("group", "name"), [
    *((Commands, name) for name in Commands.lazy),
    *((TargetsCommands, name) for name in TargetsCommands.lazy),
])
def test_every_command_loads_with_one_parameter_per_option(group, name):
    lazy = group.lazy[name]
    command = lazy.load(name)
    assert isinstance(command, Command)
    assert [param.name for param in command.params] == [
        f.name for f in fields(imported(lazy.options))]
    assert command.help == lazy.help and command.examples == lazy.examples
    assert callable(imported(lazy.run))


@pytest.mark.parametrize("path", [
    *Commands.lazy, *(f"targets {name}" for name in TargetsCommands.lazy)])
def test_every_commands_help_shows_words_for_placeholders(cli, path):
    text = cli(*path.split(), "--help").out
    assert not re.search(r"<[a-z ]+>", text), text  # no <int>, <float range>, <file>


def test_login_help_names_its_placeholders(cli):
    # login's help once showed click's types (<int>, <float>, <file>) and {name}.
    text = cli("login", "--help").out
    assert text.startswith("Usage: astra-auth login [OPTIONS] {NAME}\n")
    assert "\n  NAME  Target.  [required]\n" in text
    for line in ("\n  --port PORT ", "\n  --timeout SECONDS ", "\n  --ca-bundle PATH "):
        assert line in text, text


# ---------------------------------------------------------------------------
# Help

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
