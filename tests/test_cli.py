"""The command line: each command built from its options dataclass, and loaded
only when it is used (astra_auth.cli.group)."""

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
    command.main(list(args), standalone_mode=False, obj=State(make_deps=lambda path: None))
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
