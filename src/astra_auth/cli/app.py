"""The typer application: the global options, and the commands by name.

Each command is its options dataclass and its run function, each imported only
when needed (`cli.group`); `cli.run` runs it and turns every outcome into
output and an exit code.
"""

# No `from __future__ import annotations` here, on purpose: typer reads the
# root callback's annotations, and a string annotation costs it an eval().

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astra_auth import __version__
from astra_auth.cli.group import Lazy, LazyGroup
from astra_auth.cli.run import State

if TYPE_CHECKING:  # kept out of the start-up path
    from astra_auth.deps import Deps


class Commands(LazyGroup):
    """astra-auth's commands, in the order --help lists them (then `targets`)."""

    lazy = {
        "configure": Lazy(
            "astra_auth.commands.options.configure:ConfigureOptions",
            "astra_auth.commands.configure:configure",
            short_help="Set up a target: a walk-through, or flags in CI.",
            help="Set up a target's authentication: a walk-through at a terminal, flags in CI.",
            examples=(
                "astra-auth configure",
                "astra-auth configure payments-api",
                "printf '%s\\n' \"$CLIENT_SECRET\" | astra-auth configure payments-api "
                "--grant-type client_credentials --token-url https://idp.example.com/oauth/token "
                "--client-id \"$CLIENT_ID\" --client-secret-stdin --no-input --test",
            )),
        "test-token": Lazy(
            "astra_auth.commands.options.test_token:TestTokenOptions",
            "astra_auth.commands.test_token:test_token",
            short_help="Get the credential, check it on the API; say why not.",
            help="Obtain the credential for real (the grant, for OAuth 2.0), check it against "
            "the API, and on failure say why and what to change.",
            examples=("astra-auth test-token payments-api",
                      "astra-auth test-token --all --json",
                      "astra-auth test-token payments-api --verbose --timeout 30")),
        "token": Lazy(
            "astra_auth.commands.options.token:TokenOptions",
            "astra_auth.commands.token:token",
            short_help="Print a valid credential, for scripts.",
            help="Print a valid credential (an access token, key or signed JWT), cached and "
            "renewed as needed, for scripts.",
            examples=("astra-auth token payments-api",
                      "curl -H \"$(astra-auth token payments-api --format header)\" "
                      "https://api.example.com/things",
                      "astra-auth token payments-api --format json --min-ttl 300")),
        "login": Lazy(
            "astra_auth.commands.options.login:LoginOptions",
            "astra_auth.commands.login:login",
            short_help="Log in once (device code, authorization code).",
            help="The one human step of the device-code and authorization-code grants: "
            "afterwards renewal is unattended."),
        "proxy": Lazy(
            "astra_auth.proxy:ProxyOptions",
            "astra_auth.proxy:run",
            short_help="A local reverse proxy that adds the credential.",
            help="Forward every request to the target's API with a fresh credential added.",
            examples=("astra-auth proxy payments-api",
                      "astra-auth proxy alice=8081 bob=8082",
                      "astra-auth proxy payments-api --upstream https://staging.example.com")),
        "exec": Lazy(
            "astra_auth.commands.options.exec:ExecOptions",
            "astra_auth.commands.exec:exec_command",
            short_help="Run a command with the credential in its env.",
            help="Run COMMAND with the credential in its environment: ASTRA_AUTH_TOKEN, "
            "ASTRA_AUTH_HEADER_NAME, ASTRA_AUTH_HEADER_VALUE and ZAP's ZAP_AUTH_HEADER, "
            "ZAP_AUTH_HEADER_VALUE, ZAP_AUTH_HEADER_SITE.  Exits with COMMAND's exit code. "
            "The header reaches curl on stdin in the example, not on its command line, where "
            "any local user could read it in the process list.",
            examples=("astra-auth exec payments-api -- sh -c 'printf \"%s: %s\\n\" "
                      "\"$ASTRA_AUTH_HEADER_NAME\" \"$ASTRA_AUTH_HEADER_VALUE\" | "
                      "curl -H @- https://api.example.com/things'",
                      "astra-auth exec payments-api -- zap.sh -cmd -quickurl "
                      "https://api.example.com/")),
        "completion": Lazy(
            "astra_auth.cli.completion:CompletionOptions",
            "astra_auth.cli.completion:completion",
            short_help="Print the shell's completion script.",
            help="Print the completion script for bash, zsh, fish or powershell.",
            examples=("astra-auth completion bash > "
                      "~/.local/share/bash-completion/completions/astra-auth",
                      "astra-auth completion zsh > ~/.zfunc/_astra-auth",
                      "astra-auth completion fish > "
                      "~/.config/fish/completions/astra-auth.fish")),
        "doctor": Lazy(
            "astra_auth.commands.options.doctor:DoctorOptions",
            "astra_auth.commands.doctor:doctor",
            short_help="Check this machine: config, keyring, variables, proxy, CAs.",
            help="Check this machine: the config file and its permissions, the keyring "
            "backend and whether it is locked, variables that override stored secrets, proxy "
            "variables, and the trust store.",
            examples=("astra-auth doctor", "astra-auth doctor --json")),
    }


class TargetsCommands(LazyGroup):
    """`astra-auth targets …`, in the order --help lists them."""

    lazy = {
        "list": Lazy(
            "astra_auth.commands.options.targets:ListOptions",
            "astra_auth.commands.targets:list_targets",
            short_help="Every target, with its grant and token URL.",
            help="Every target: name, URL, auth type, grant type, token URL.",
            examples=("astra-auth targets list", "astra-auth targets list --json")),
        "add": Lazy(
            "astra_auth.commands.options.targets:AddOptions",
            "astra_auth.commands.targets:add_target",
            help="Register a target with no authentication yet.",
            examples=("astra-auth targets add payments-api --url https://api.example.com",)),
        "show": Lazy(
            "astra_auth.commands.options.targets:ShowOptions",
            "astra_auth.commands.targets:show_target",
            short_help="A target's settings; secrets only as stored/missing/env.",
            help="A target's settings; each secret only as stored, missing or env.",
            examples=("astra-auth targets show payments-api",
                      "astra-auth targets show payments-api --json")),
        "remove": Lazy(
            "astra_auth.commands.options.targets:RemoveOptions",
            "astra_auth.commands.targets:remove_target",
            short_help="Remove a target and its keyring entries.",
            help="Remove a target and its keyring entries.",
            examples=("astra-auth targets remove payments-api",
                      "astra-auth targets remove payments-api --yes")),
    }


app = typer.Typer(
    name="astra-auth",
    cls=Commands,
    help="Tell an API security scanner how to authenticate to the API it tests, and keep it "
    "authenticated for the whole scan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: typer's rich help imports pygments, markdown-it and attrs,
    # which more than doubles the time `--help` takes (benchmarks/startup.py).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
targets_app = typer.Typer(help="List, add, show and remove targets.", no_args_is_help=True,
                          rich_markup_mode=None, cls=TargetsCommands)
app.add_typer(targets_app, name="targets")


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


def main(argv: list[str] | None = None, *,
         make_deps: "Callable[[Path | None], Deps] | None" = None) -> int:
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
