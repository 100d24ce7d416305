"""Every command the tool prints for the user to copy, built in one place.

A printed command is pasted into a shell, so each argument is quoted here and
nowhere else: a token URL named by a provider's discovery document, a redirect
target, a target name.  Without quoting, a provider that answers
`https://idp.example.com/t$(id>/tmp/p)` would run `id` on the user's machine
when the hint is pasted.  Imports nothing heavy.
"""

from __future__ import annotations

import shlex

from astra_auth.core import validate

PROGRAM = "astra-auth"


class Placeholder(str):
    """An argument the user replaces before running the command (`https://…`,
    `'…'`), shown as it is: it is our own text, never outside data."""


class Expansion(str):
    """A shell expansion we write ourselves (`"$CLIENT_SECRET"`), shown as it is."""


def quote(arg: str) -> str:
    """One argument as a POSIX shell reads it back unchanged."""
    if isinstance(arg, Placeholder | Expansion):
        return str(arg)
    return shlex.quote(arg)


def command(*args: str) -> str:
    """`astra-auth ARG …`, each argument quoted."""
    return " ".join([PROGRAM, *(quote(a) for a in args)])


def configure(target: str, *flags: str) -> str:
    """The command that changes settings of one target without asking anything."""
    return command("configure", target, *flags, "--no-input")


def piped_secret(variable: str, cmd: str) -> str:
    """`printf '%s\\n' "$VARIABLE" | CMD`: a secret from a variable on standard input,
    never on the command line.  `variable` is one of our own names."""
    if not variable.isidentifier():
        raise ValueError(f"not a variable name: {variable!r}")
    return f"printf '%s\\n' \"${variable}\" | {cmd}"


def powershell_quote(arg: str) -> str:
    """One argument as PowerShell reads it back unchanged: a single-quoted string,
    in which only the quote itself is special (doubled).  PowerShell also treats
    the typographic quotes U+2018, U+2019, U+201A and U+201B as single quotes."""
    escaped = "".join(ch * 2 if ch in "'\u2018\u2019\u201a\u201b" else ch for ch in arg)
    return f"'{escaped}'"


def suggestable_url(url: object) -> str | None:
    """`url` when it may be suggested as a token URL in a printed command, else None.

    A URL from outside (a discovery document, a redirect's Location) is offered
    only when it is a valid https URL, or http to a loopback host, exactly as
    `--token-url` itself would accept it.
    """
    if not isinstance(url, str):
        return None
    try:
        checked = validate.token_url(url)
    except ValueError:
        return None
    return checked if checked == url else None
