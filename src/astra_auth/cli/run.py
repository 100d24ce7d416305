"""Running one command: its dependencies built, every outcome turned into
output and an exit code.

`run` is the one place where errors become messages and exit codes, and where
Ctrl-C becomes exit 130 without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from astra_auth.core.errors import (
    AstraError,
    ExitCode,
    SilentError,
    bug_location,
    redacted_traceback,
)

if TYPE_CHECKING:  # kept out of the start-up path
    from astra_auth.deps import Deps

O = TypeVar("O")


@dataclass(slots=True)
class State:
    """What the root callback learns, and how to build the dependencies."""

    make_deps: Callable[[Path | None], Deps] | None = None
    config_path: Path | None = None

    def deps(self) -> Deps:
        if self.make_deps is not None:
            return self.make_deps(self.config_path)
        from astra_auth.deps import Deps

        return Deps.system(self.config_path)


def run(ctx: typer.Context, command: Callable[[O, Deps], Any], opts: O) -> None:
    """Run one command; translate every outcome into output and an exit code."""
    state: State = ctx.obj
    deps = None
    try:
        deps = state.deps()
        command(opts, deps)
    except SilentError as exc:
        raise typer.Exit(int(exc.exit_code)) from None
    except AstraError as exc:
        # A credential source's error carries its target; the hints come from
        # the diagnosis layer, imported only when there is something to explain.
        from astra_auth.diagnosis.hints import explain

        _print_error(deps, explain(exc))
        raise typer.Exit(int(exc.exit_code)) from None
    except (KeyboardInterrupt, EOFError):
        # Nothing is saved before the last step, so there is nothing to undo.
        _stderr_line(deps, "\nAborted; nothing was changed.")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:
        # The reader went away (`astra-auth targets list | head`): nothing more
        # to say to it.  Point stdout at /dev/null so the final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        _report_bug(deps, exc)
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _report_bug(deps: Deps | None, exc: Exception) -> None:
    """Say where the bug is; never the exception's text, which may hold a secret
    a library put there.  ASTRA_AUTH_DEBUG=1 adds the traceback, messages withheld."""
    environ = deps.environ if deps is not None else os.environ
    debug = environ.get("ASTRA_AUTH_DEBUG", "").strip() not in ("", "0")
    if debug:
        for line in redacted_traceback(exc):
            _stderr_line(deps, line)
    where = bug_location(exc)
    url = _issues_url()
    _stderr_line(
        deps,
        f"astra-auth: internal error ({type(exc).__name__}{where}). This is a bug; please "
        f"report it{f' at {url}' if url else ''} with the command you ran (leave out any "
        "secret)" + ("." if debug else ", and the traceback that ASTRA_AUTH_DEBUG=1 adds."),
    )


def _issues_url() -> str | None:
    """The issue tracker declared in pyproject's [project.urls], if there is one."""
    from importlib import metadata

    try:
        declared = metadata.metadata("astra-auth").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for item in declared:
        label, _, url = item.partition(",")
        if label.strip().lower() in ("issues", "bug tracker", "tracker") and \
                url.strip().startswith("https://"):
            return url.strip()
    return None


def _print_error(deps: Deps | None, exc: AstraError) -> None:
    if deps is None:
        _stderr_line(None, f"error: {exc.message}")
        for hint in exc.hints:
            _stderr_line(None, f"  → {hint}")
        return
    from rich.markup import escape

    console = deps.io.err
    console.print(f"[bold red]error:[/bold red] {escape(exc.message)}", soft_wrap=True)
    for hint in exc.hints:
        console.print(f"  [cyan]→[/cyan] {escape(hint)}", soft_wrap=True)


def _stderr_line(deps: Deps | None, text: str) -> None:
    if deps is not None:
        deps.io.err.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        # No console yet: neutralised here, as the console would (safetext).
        from astra_auth.text.safetext import clean

        print(clean(text), file=sys.stderr)
