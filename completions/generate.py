"""Regenerate the shell-completion scripts in this folder from the app itself.

    python completions/generate.py

The scripts only hand the command line back to `astra-auth` (typer's
completion protocol), so every subcommand, option, choice and target name is
completed by the installed tool; they need regenerating only when typer's
protocol changes.  tests/test_completion.py fails when they are out of date.
"""

from __future__ import annotations

from pathlib import Path

from typer.completion import get_completion_script

PROG = "astra-auth"
COMPLETE_VAR = "_ASTRA_AUTH_COMPLETE"
FILES = {
    "bash": "astra-auth.bash",
    "zsh": "_astra-auth",
    "fish": "astra-auth.fish",
    "powershell": "astra-auth.ps1",
}
HERE = Path(__file__).resolve().parent


def scripts() -> dict[str, str]:
    return {
        name: get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)
        .rstrip("\n") + "\n"
        for shell, name in FILES.items()
    }


def main() -> None:
    for name, text in scripts().items():
        (HERE / name).write_text(text)
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
