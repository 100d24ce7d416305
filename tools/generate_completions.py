"""Regenerate the shell-completion scripts in completions/ from typer.

    python tools/generate_completions.py

The scripts only hand the command line back to `astra-auth` (typer's
completion protocol), so every subcommand, option, choice and target name is
completed by the installed tool; they need regenerating only when typer's
protocol changes.  tests/test_completion.py fails when they are out of date.
The wheel carries them inside the package, so `astra-auth completion SHELL` prints them
from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

from typer.completion import get_completion_script

from astra_auth.cli.completion import SCRIPTS as FILES

PROG = "astra-auth"
COMPLETE_VAR = "_ASTRA_AUTH_COMPLETE"
FOLDER = Path(__file__).resolve().parent.parent / "completions"


def scripts() -> dict[str, str]:
    return {
        name: get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)
        .rstrip("\n") + "\n"
        for shell, name in FILES.items()
    }


def main() -> None:
    for name, text in scripts().items():
        (FOLDER / name).write_text(text)
        print(f"wrote {FOLDER / name}")


if __name__ == "__main__":
    main()
