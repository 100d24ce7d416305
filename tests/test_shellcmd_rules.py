"""Every command printed for a user to copy: each argument quoted so that a
shell (POSIX, or PowerShell) reads it back unchanged, and only our own
placeholders and expansions left as they are."""

from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra_auth.text.shellcmd import (
    Expansion,
    Placeholder,
    command,
    configure,
    piped_secret,
    powershell_quote,
    quote,
)


def test_a_command_quotes_each_argument_and_starts_with_the_program():
    assert command("test-token", "my api", "--probe", "/a;b") == \
        "astra-auth test-token 'my api' --probe '/a;b'"
    assert command() == "astra-auth"


def test_configure_ends_with_no_input():
    assert configure("api", "--scope", "read write") == \
        "astra-auth configure api --scope 'read write' --no-input"


def test_placeholders_and_expansions_are_left_as_they_are():
    assert quote(Placeholder("https://…")) == "https://…"
    assert quote(Expansion('"$CLIENT_SECRET"')) == '"$CLIENT_SECRET"'
    assert quote("$CLIENT_SECRET") == "'$CLIENT_SECRET'"  # text from outside is quoted


def test_a_piped_secret_never_puts_the_secret_on_the_command_line():
    assert piped_secret("PASSWORD", configure("hr", "--password-stdin")) == (
        "printf '%s\\n' \"$PASSWORD\" | astra-auth configure hr --password-stdin --no-input")


@pytest.mark.parametrize("variable", ["A B", "$(id)", "1X", ""])
def test_a_piped_secret_takes_only_a_variable_name(variable):
    with pytest.raises(ValueError) as caught:
        piped_secret(variable, "true")
    assert str(caught.value) == f"not a variable name: {variable!r}"


@pytest.mark.parametrize(("arg", "quoted"), [
    ("plain", "'plain'"),
    ("it's", "'it''s'"),
    ("Xmas 'X'", "'Xmas ''X'''"),  # only quotes are doubled
    ("a\u2018b\u2019c\u201ad\u201be", "'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'"),
    ("$env:SECRET `n", "'$env:SECRET `n'"),
    ("", "''"),
])
def test_powershell_quoting(arg, quoted):
    assert powershell_quote(arg) == quoted


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\x00",
                                      exclude_categories=["Cs"]), max_size=20), max_size=4))
def test_a_posix_shell_reads_each_argument_back_unchanged(args):
    assert shlex.split(command(*args)) == ["astra-auth", *args]


def test_a_real_shell_reads_a_hostile_argument_back_unchanged():
    hostile = "x'; touch /tmp/astra-pwned; echo '$(id)` \n\\"
    out = subprocess.run(["sh", "-c", f"printf '%s' {quote(hostile)}"], capture_output=True,
                         text=True, check=True).stdout
    assert out == hostile
