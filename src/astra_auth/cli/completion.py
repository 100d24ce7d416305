"""Shell completion: `astra-auth completion SHELL` and its scripts, and the
names of the configured targets.

Nothing heavy is imported here: a Tab press runs the whole CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from astra_auth.core import validate
from astra_auth.core.cli_params import Argument
from astra_auth.core.errors import UsageError
from astra_auth.storage.paths import default_path

if TYPE_CHECKING:
    from astra_auth.deps import Deps

# The script of each shell, in the repository's top-level completions/ folder
# (tools/generate_completions.py writes them); the wheel carries that folder
# inside the package, as astra_auth/completions/ (pyproject.toml).
SCRIPTS = {
    "bash": "astra-auth.bash",
    "zsh": "_astra-auth",
    "fish": "astra-auth.fish",
    "powershell": "astra-auth.ps1",
}


@dataclass
class CompletionOptions:
    shell: Annotated[str, Argument(help="bash, zsh, fish or powershell.", metavar="SHELL",
                                   choices=validate.SHELLS)]


def completion(opts: CompletionOptions, deps: Deps) -> None:
    """Print the shell's completion script."""
    try:
        shell = validate.choice(opts.shell, validate.SHELLS)
    except ValueError as exc:
        raise UsageError(f"SHELL: {exc}") from None
    deps.io.stdout.write(script(shell))


def script(shell: str) -> str:
    """The completion script for `shell`: from the package where a wheel put it,
    else from the source tree (an editable install).

    Read beside this module rather than through importlib.resources, which
    imports zipfile and costs ~6 ms for a package that is never run zipped.
    """
    return (scripts_folder() / SCRIPTS[shell]).read_text("utf-8")


def scripts_folder() -> Path:
    package = Path(__file__).resolve().parent.parent
    installed = package / "completions"
    return installed if installed.is_dir() else package.parent.parent / "completions"


def target_names(ctx: Any) -> list[str]:
    """Names of the targets in the config file the command line points at.

    Only the names are read, without checking the rest of the file: a file that
    does not parse completes nothing, and the command itself says what is wrong.
    """
    root = ctx.find_root() if ctx is not None else None
    path = root.params.get("config") if root is not None else None
    path = Path(path) if path else default_path(os.environ)
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # nested thousands deep
        return []
    targets = data.get("targets")
    return sorted(targets) if isinstance(targets, dict) else []
