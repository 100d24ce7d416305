"""How an options dataclass declares its command-line parameters.

A command's options are one dataclass; each field says what the command line
calls it, next to its type and default:

    format: Annotated[str, Option("--format", help="bare, header or json.",
                                  choices=TOKEN_FORMATS)] = "bare"

The CLI (`astra_auth.cli.group`) makes the typer command from these
declarations.  The command's own code only reads the dataclass, so its tests
build one directly, with no command line and no typer.
"""

from __future__ import annotations


class Option:
    """An option: its flags, its help, and the word its value is shown as in
    help (`metavar`; by default the first flag's name in capitals, e.g.
    `--port PORT`).  `choices` are completed by the shell; `min` is the lowest
    number accepted.  Help shows the field's default unless it is None or False."""

    __slots__ = ("choices", "flags", "help", "metavar", "min")

    def __init__(self, *flags: str, help: str, metavar: str | None = None,
                 choices: tuple[str, ...] = (), min: float | None = None) -> None:
        self.flags = flags
        self.help = help
        self.metavar = metavar or flags[0].split("/")[0].lstrip("-").upper()
        self.choices = choices
        self.min = min


class Argument:
    """A positional argument: its help, and the word it is shown as in help
    (`metavar`; by default the field's name in capitals).  The shell completes
    `choices`, or with `target_names` the names of the configured targets."""

    __slots__ = ("choices", "help", "metavar", "target_names")

    def __init__(self, *, help: str = "", metavar: str | None = None,
                 choices: tuple[str, ...] = (), target_names: bool = False) -> None:
        self.help = help
        self.metavar = metavar
        self.choices = choices
        self.target_names = target_names


# --timeout and --ca-bundle, alike on every command that talks to the network
# (net.settings.check_network_options checks their values).
TIMEOUT = Option("--timeout", metavar="SECONDS",
                 help="Seconds per network exchange (default: the target's timeout, else 10).")
CA_BUNDLE = Option("--ca-bundle", metavar="PATH",
                   help="Extra CA certificates (PEM) to trust (default: the target's ca_bundle).")
