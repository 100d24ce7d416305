"""The typer application: parse flags, fill an options object, call a run function.

Commands hold no logic.  `run` is the one place where errors become messages and
exit codes, and where Ctrl-C becomes exit 130 without a traceback.
"""

# No `from __future__ import annotations` here, on purpose: typer reads every
# command's annotations on every start, and string annotations cost it an
# eval() each (~5 ms for this app; benchmarks/startup.py).

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.core

from astra_auth import __version__
from astra_auth.cli.group import Deferred, Group, LazyTyper
from astra_auth.core import validate
from astra_auth.core.errors import (
    AstraError,
    ExitCode,
    SilentError,
    UsageError,
    bug_location,
    redacted_traceback,
)

if TYPE_CHECKING:  # kept out of the start-up path
    from astra_auth.deps import Deps

O = TypeVar("O")


class State:
    """What the root callback learns, and how to build the dependencies."""

    # A plain class, not a dataclass: `dataclasses` costs ~0.4 ms to import and
    # --version, --help and completion need nothing else from it.
    def __init__(self, make_deps: "Callable[[Path | None], Deps] | None" = None,
                 config_path: Path | None = None) -> None:
        self.make_deps = make_deps
        self.config_path = config_path

    def deps(self) -> "Deps":
        if self.make_deps is not None:
            return self.make_deps(self.config_path)
        from astra_auth.deps import Deps

        return Deps.system(self.config_path)


# Placeholders in --help read as words, not as click's types (`<float range>`,
# `<str>`, `<file>`); an option not named here gets its name in capitals.
METAVARS = {
    "--config": "PATH", "--timeout": "SECONDS", "--min-ttl": "SECONDS",
    "--lifetime": "SECONDS", "--ca-bundle": "PATH", "--signing-key-file": "PATH",
    "--private-key-file": "PATH", "--certificate": "PATH", "--url": "URL",
    "--token-url": "URL", "--issuer": "URL", "--upstream": "URL",
    "--authorization-url": "URL", "--device-authorization-url": "URL",
    "--assertion-audience": "URL", "--client-id": "ID", "--username": "USER",
    "--password": "PASSWORD", "--client-secret": "SECRET", "--scope": "SCOPE",
    "--audience": "AUDIENCE", "--client-auth": "METHOD", "--secrets": "keyring|env",
    "--auth-type": "TYPE", "--grant-type": "GRANT", "--key-name": "NAME",
    "--key-location": "WHERE", "--algorithm": "ALG", "--assertion-alg": "ALG",
    "--claim": "NAME=VALUE", "--param": "NAME=VALUE", "--header-name": "HEADER",
    "--prefix": "PREFIX", "--format": "FORMAT", "--host": "HOST",
}

# Each command's help ends with examples to copy (issue 14).
EXAMPLES = {
    "targets list": ["astra-auth targets list", "astra-auth targets list --json"],
    "targets add": ["astra-auth targets add payments-api --url https://api.example.com"],
    "targets show": ["astra-auth targets show payments-api",
                     "astra-auth targets show payments-api --json"],
    "targets remove": ["astra-auth targets remove payments-api",
                       "astra-auth targets remove payments-api --yes"],
    "configure": [
        "astra-auth configure",
        "astra-auth configure payments-api",
        "printf '%s\\n' \"$CLIENT_SECRET\" | astra-auth configure payments-api "
        "--grant-type client_credentials --token-url https://idp.example.com/oauth/token "
        "--client-id \"$CLIENT_ID\" --client-secret-stdin --no-input --test",
    ],
    "test-token": ["astra-auth test-token payments-api",
                   "astra-auth test-token --all --json",
                   "astra-auth test-token payments-api --verbose --timeout 30"],
    "token": ["astra-auth token payments-api",
              "curl -H \"$(astra-auth token payments-api --format header)\" "
              "https://api.example.com/things",
              "astra-auth token payments-api --format json --min-ttl 300"],
    "proxy": ["astra-auth proxy payments-api",
              "astra-auth proxy alice=8081 bob=8082",
              "astra-auth proxy payments-api --upstream https://staging.example.com"],
    "completion": ["astra-auth completion bash > "
                   "~/.local/share/bash-completion/completions/astra-auth",
                   "astra-auth completion zsh > ~/.zfunc/_astra-auth",
                   "astra-auth completion fish > ~/.config/fish/completions/astra-auth.fish"],
    "doctor": ["astra-auth doctor", "astra-auth doctor --json"],
    "exec": ["astra-auth exec payments-api -- sh -c 'printf \"%s: %s\\n\" "
             "\"$ASTRA_AUTH_HEADER_NAME\" \"$ASTRA_AUTH_HEADER_VALUE\" | "
             "curl -H @- https://api.example.com/things'",
             "astra-auth exec payments-api -- zap.sh -cmd -quickurl https://api.example.com/"],
}


class Command(typer.core.TyperCommand):
    """A typer command whose help uses words for placeholders and ends with
    examples (EXAMPLES, by the command's path after `astra-auth`)."""

    def _words(self) -> None:
        # By param_type_name: typer may carry its own copy of click's classes.
        for param in self.params:
            if param.metavar is not None:
                continue
            if param.param_type_name == "argument":
                param.metavar = (param.name or "ARG").upper()
            elif param.param_type_name == "option" and not getattr(param, "is_flag", False):
                param.metavar = METAVARS.get(param.opts[0], param.opts[0].lstrip("-").upper())

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        self._words()
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return pieces

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._words()
        super().format_help(ctx, formatter)

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        super().format_epilog(ctx, formatter)
        examples = EXAMPLES.get(" ".join(ctx.command_path.split()[1:]))
        if examples:
            formatter.write_paragraph()
            formatter.write_text("Examples:")
            for example in examples:  # as they are: never re-wrapped
                formatter.write(f"  {example}\n")


app = LazyTyper(
    name="astra-auth",
    cls=Group,
    help="Tell an API security scanner how to authenticate to an OAuth 2.0 API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: typer's rich help imports pygments, markdown-it and attrs,
    # which more than doubles the time `--help` takes (benchmarks/startup.py).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
targets_app = typer.Typer(
    help="List, add, show and remove targets.", no_args_is_help=True, rich_markup_mode=None,
    cls=Group,
)
app.add_typer(targets_app, name="targets")


def complete_target(ctx: typer.Context, incomplete: str) -> list[str]:
    """Target names for shell completion, read without building any dependency."""
    from astra_auth.cli.completion import target_names

    return [n for n in target_names(ctx) if n.startswith(incomplete)]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"astra-auth {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file to use (default: $ASTRA_AUTH_CONFIG, else "
            "$XDG_CONFIG_HOME/astra-auth/config.toml).",
            dir_okay=False,
            metavar="PATH",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if not isinstance(ctx.obj, State):
        ctx.obj = State()
    ctx.obj.config_path = config


def run(ctx: typer.Context, command: "Callable[[O, Deps], Any]", opts: O) -> None:
    """Run one command; translate every outcome into output and an exit code."""
    state: State = ctx.obj
    deps = None
    try:
        deps = state.deps()
        command(opts, deps)
    except SilentError as exc:
        raise typer.Exit(int(exc.exit_code)) from None
    except AstraError as exc:
        _print_error(deps, exc)
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


def _report_bug(deps: "Deps | None", exc: Exception) -> None:
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


def _print_error(deps: "Deps | None", exc: AstraError) -> None:
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


def _stderr_line(deps: "Deps | None", text: str) -> None:
    if deps is not None:
        deps.io.err.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        # No console yet: neutralised here, as the console would (safetext).
        from astra_auth.text.safetext import clean

        print(clean(text), file=sys.stderr)


# ---------------------------------------------------------------------------
# targets


@targets_app.command("list", cls=Command, short_help="Every target, with its grant and token URL.")
def targets_list(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """Every target: name, URL, auth type, grant type, token URL."""
    from astra_auth.commands import targets

    run(ctx, targets.list_targets, targets.ListOptions(json=json))


@targets_app.command("add", cls=Command)
def targets_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name for the new target.", show_default=False)],
    url: Annotated[str | None, typer.Option("--url", help="URL of the API under test.")] = None,
) -> None:
    """Register a target with no authentication yet."""
    from astra_auth.commands import targets

    run(ctx, targets.add_target, targets.AddOptions(name=name, url=url))


@targets_app.command("show", cls=Command, short_help="A target's settings; secrets only as stored/missing/env.")
def targets_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(autocompletion=complete_target, show_default=False)],
    json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """A target's settings; each secret only as stored, missing or env."""
    from astra_auth.commands import targets

    run(ctx, targets.show_target, targets.ShowOptions(name=name, json=json))


@targets_app.command("remove", cls=Command, short_help="Remove a target and its keyring entries.")
def targets_remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(autocompletion=complete_target, show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a target and its keyring entries."""
    from astra_auth.commands import targets

    run(ctx, targets.remove_target, targets.RemoveOptions(name=name, yes=yes))


# ---------------------------------------------------------------------------
# configure


def _complete_from(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """Shell completion for an option with fixed choices."""

    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete)]

    return complete


# Commands with many options are defined in cli_commands.py, which is
# imported when one of them is built (Deferred); here they keep their place
# among the commands, and their name and short help for --help.
app.command("configure", cls=Command,
            short_help="Set up a target: a walk-through, or flags in CI.")(
    Deferred("astra_auth.cli.commands", "configure"))
app.command("test-token", cls=Command, short_help="Get the credential, check it on the API; say why not.")(
    Deferred("astra_auth.cli.commands", "test_token"))
app.command("token", cls=Command, short_help="Print a valid credential, for scripts.")(
    Deferred("astra_auth.cli.commands", "token"))
app.command("login", short_help="Log in once (device code, authorization code).")(
    Deferred("astra_auth.cli.commands", "login"))
app.command("proxy", cls=Command, short_help="A local reverse proxy that adds the credential.")(
    Deferred("astra_auth.cli.commands", "proxy"))
app.command("exec", cls=Command, short_help="Run a command with the credential in its env.")(
    Deferred("astra_auth.cli.commands", "exec_"))


# ---------------------------------------------------------------------------
# completion


@app.command("completion", cls=Command, short_help="Print the shell's completion script.")
def completion(
    ctx: typer.Context,
    shell: Annotated[
        str,
        typer.Argument(help="bash, zsh, fish or powershell.", metavar="SHELL",
                       autocompletion=_complete_from(validate.SHELLS), show_default=False),
    ],
) -> None:
    """Print the completion script for bash, zsh, fish or powershell."""
    # Like --version, nothing to inject: no dependencies are built.
    from astra_auth.cli.completion import script

    try:
        text = script(validate.choice(shell, validate.SHELLS))
    except ValueError as exc:
        _print_error(None, UsageError(f"SHELL: {exc}"))
        raise typer.Exit(int(ExitCode.USAGE)) from None
    sys.stdout.write(text)


# ---------------------------------------------------------------------------
# doctor


@app.command("doctor", cls=Command, short_help="Check this machine: config, keyring, variables, proxy, CAs.")
def doctor(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check this machine: the config file and its permissions, the keyring backend
    and whether it is locked, variables that override stored secrets, proxy
    variables, and the trust store."""
    from astra_auth.commands.doctor import DoctorOptions
    from astra_auth.commands.doctor import doctor as run_doctor

    run(ctx, run_doctor, DoctorOptions(json=json))


def main(argv: list[str] | None = None, *, make_deps: "Callable[..., Deps] | None" = None) -> int:
    """The program: run the app and return its exit code instead of exiting."""
    try:
        app(args=argv, prog_name="astra-auth", obj=State(make_deps=make_deps))
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
