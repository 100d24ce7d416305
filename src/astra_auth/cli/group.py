"""Commands imported only when one is used, each built from its options dataclass.

A command line runs one command, so nothing of the others is imported: click's
lazy-loading pattern, a group whose `resolve_command` loads the command it is
asked for
(https://click.palletsprojects.com/en/stable/complex/#lazily-loading-subcommands).
Until then the group holds a stand-in per command with its name and help, which
is all that listing the commands needs (`--help`, completion of a command name,
"did you mean").

A command is an options dataclass, each field declared with `Option` or
`Argument` (astra_auth.core.cli_params), and a run function, `run(opts, deps)`,
each named by "module:name".  `Lazy.load` turns the dataclass into a typer
command whose parameters are its fields; calling it fills the dataclass, then
imports the run function and runs it.  So a command's help and the completion
of its arguments import only its options (astra_auth.commands.options), never
its code.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
import typer.core
import typer.main

from astra_auth.cli.run import run
from astra_auth.core.cli_params import Argument, Option


@dataclass
class Lazy:
    """A command by where its parts are, "module:name": its options dataclass
    and its run function, `run(opts, deps)`; with the texts its help shows."""

    options: str
    run: str
    help: str
    short_help: str | None = None
    examples: tuple[str, ...] = ()

    def load(self, name: str) -> Command:
        """The command, its options made typer's.  The run function's module is
        imported only when the command runs: its help and completion read only
        the options."""

        def run_command(opts: Any, deps: Any) -> object:
            return imported(self.run)(opts, deps)

        app = typer.Typer(rich_markup_mode=None, add_completion=False)
        app.command(name, cls=Command, help=self.help, short_help=self.short_help)(
            typer_function(imported(self.options), run_command))
        command = typer.main.get_command(app)
        assert isinstance(command, Command)
        command.examples = self.examples
        return command


def imported(path: str) -> Any:
    """What "module:name" names, its module imported."""
    from importlib import import_module

    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


class Command(typer.core.TyperCommand):
    """A typer command whose help ends with examples to copy, each printed as
    written (never re-wrapped)."""

    examples: tuple[str, ...] = ()

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            formatter.write_paragraph()
            formatter.write_text("Examples:")
            for example in self.examples:
                formatter.write(f"  {example}\n")


class Listed(typer.core.TyperCommand):
    """A lazy command as a list of the commands shows it: its name and help."""

    def __init__(self, name: str, lazy: Lazy) -> None:
        super().__init__(name, help=lazy.help, short_help=lazy.short_help,
                         rich_markup_mode=None)
        self.lazy = lazy


class LazyGroup(typer.core.TyperGroup):
    """A typer group whose commands in `lazy` are imported when one is used.

    They come first, in their order, then any group typer adds (add_typer).
    """

    lazy: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        listed: dict[str, Any] = {name: Listed(name, lazy) for name, lazy in self.lazy.items()}
        self.commands = {**listed, **self.commands}

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        """The command to run, show the help of or complete: the real one."""
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, Listed) and name is not None:
            command = self.commands[name] = command.lazy.load(name)
        return name, command, rest


def typer_function(options: type, run_command: Callable[[Any, Any], object]
                   ) -> Callable[..., None]:
    """A function for typer to make a command of: its parameters are the fields
    of the dataclass `options`, and calling it runs `run_command` with them."""
    hints = typing.get_type_hints(options, include_extras=True)
    parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=typer.Context)]
    # typer gives a repeated option or a variadic argument as a list, or None
    # when it is not given; the field may be a list or a tuple.
    sequences: dict[str, Callable[[Any], Any]] = {}
    for field in fields(options):
        kind, declared = typing.get_args(hints[field.name])  # Annotated[kind, declared]
        default: Any = field.default
        if field.default is MISSING:
            default = None if field.default_factory is not MISSING else inspect.Parameter.empty
        if typing.get_origin(kind) in (list, tuple):
            sequences[field.name] = typing.get_origin(kind)
            kind = list[typing.get_args(kind)[0]] | None  # type: ignore[misc]
        parameters.append(inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY, default=default,
            annotation=Annotated[kind, typer_parameter(field.name, kind, declared)]))

    def command(ctx: typer.Context, **values: Any) -> None:
        for name, sequence in sequences.items():
            values[name] = sequence(values[name] or ())
        run(ctx, run_command, options(**values))

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return command


def typer_parameter(name: str, kind: Any, declared: Option | Argument) -> Any:
    """The typer parameter for a field declared as an `Option` or `Argument`."""
    if isinstance(declared, Argument):
        return typer.Argument(help=declared.help, metavar=declared.metavar or name.upper(),
                              show_default=False,
                              autocompletion=completer(declared.choices, declared.target_names))
    types = (kind, *typing.get_args(kind))
    extra: dict[str, Any] = {}
    if declared.min is not None:
        extra["min"] = declared.min
    if Path in types:
        extra["dir_okay"] = False  # a file: a folder is refused
    return typer.Option(*declared.flags, help=declared.help,
                        metavar=None if bool in types else declared.metavar,
                        autocompletion=completer(declared.choices, False), **extra)


def completer(choices: tuple[str, ...], targets: bool) -> Callable[..., list[str]] | None:
    """Shell completion of fixed choices, or of the configured targets' names."""
    if targets:
        def complete_target(ctx: typer.Context, incomplete: str) -> list[str]:
            from astra_auth.cli.completion import target_names

            return [name for name in target_names(ctx) if name.startswith(incomplete)]

        return complete_target
    if choices:
        def complete_choice(incomplete: str) -> list[str]:
            return [choice for choice in choices if choice.startswith(incomplete)]

        return complete_choice
    return None
