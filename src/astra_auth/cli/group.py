"""typer, building only the click commands a command line uses.

typer converts every command of an app to click on every start: for
astra-auth ~3.5 ms, configure's ~40 options alone more than half, before
anything runs.  Here the app's group holds its subcommands in a lazy mapping
(`LazyCommands`): each is converted by typer's own functions
(`get_command_from_info`, `get_group_from_info`) when click asks for it;
listing them (--help, completion of a command name) reads only their names
and short help (`Group`); and a command's function can live in a module that
is imported only then (`Deferred`), so that its options are not even defined
on other starts (benchmarks/startup.py).
"""

# No `from __future__ import annotations`, as in cli.py.

import inspect
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import typer
import typer.core


class LazyCommands(MutableMapping[str, Any]):
    """A group's subcommands by name, each converted from its typer definition
    to a click command on first use.

    typer converts every command of the app on every start, and `configure`
    alone has ~40 options: ~3.5 ms before anything runs.  A command line runs
    one command, so only that one is built; `--help` and completion of command
    names still see all of them, in the order they were declared.
    """

    def __init__(self, makers: dict[str, Callable[[], Any]],
                 listers: dict[str, Callable[[], Any]]) -> None:
        self._makers = makers
        self._listers = listers
        self._built: dict[str, Any] = {}

    def listed(self, name: str) -> Any:
        """What a list of the commands reads of this one (`Group`): the
        command itself once built, else one with its name, short help and
        flags but no options, which is quick to make."""
        command = self._built.get(name)
        if command is None and name in self._listers:
            return self._listers[name]()
        return self.get(name)

    def __getitem__(self, name: str) -> Any:
        command = self._built.get(name)
        if command is None:
            command = self._built[name] = self._makers[name]()  # KeyError: unknown
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._makers[name] = lambda: command
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._makers[name]
        self._built.pop(name, None)
        self._listers.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


class Deferred:
    """A stand-in for a command's function that lives in `module`: the command
    is registered here, in its place among the others, but its options are
    defined (and the module imported) only when the command is built."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never run
        raise AssertionError(f"{self.module}.{self.__name__} was not loaded")

    def load(self) -> Callable[..., Any]:
        from importlib import import_module

        function: Callable[..., Any] = getattr(import_module(self.module), self.__name__)
        return function


def _command(command_info: Any, settings: dict[str, Any]) -> Any:
    """typer's conversion of one command to click, its function loaded first
    when it is `Deferred`."""
    from typer.main import get_command_from_info

    if isinstance(command_info.callback, Deferred):
        command_info.callback = command_info.callback.load()
    return get_command_from_info(command_info,
                                 pretty_exceptions_short=settings["pretty_exceptions_short"],
                                 rich_markup_mode=settings["rich_markup_mode"])


def _listed(command_info: Any, name: str, settings: dict[str, Any]) -> Any:
    """A command as `--help` lists it, and completion offers it: the help and
    flags typer would give it (get_command_from_info), no options."""
    callback = command_info.callback
    use_help: str | None
    if command_info.help is not None:
        use_help = inspect.cleandoc(command_info.help)
    elif command_info.short_help is None and isinstance(callback, Deferred):
        return _command(command_info, settings)  # its help is its docstring, over there
    else:
        use_help = inspect.getdoc(callback)
    return typer.core.TyperCommand(
        name=name, help=use_help, short_help=command_info.short_help,
        hidden=command_info.hidden, deprecated=command_info.deprecated,
        rich_markup_mode=settings["rich_markup_mode"])


class Group(typer.core.TyperGroup):
    """typer's group, but a list of its commands (--help, completion of a
    command name) reads only each one's name, short help and flags
    (`LazyCommands.listed`), so it builds none of them."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names, in order, without building one

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._listing and isinstance(self.commands, LazyCommands):
            return self.commands.listed(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self._listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing = False


def lazy_group(typer_instance: typer.Typer, group_info: Any, settings: dict[str, Any]) -> Any:
    """What `typer.main.get_group_from_info` builds, with lazy subcommands."""
    from functools import partial

    from typer.main import get_command_name, get_group_from_info

    commands, groups = typer_instance.registered_commands, typer_instance.registered_groups
    makers: dict[str, Callable[[], Any]] = {}
    listers: dict[str, Callable[[], Any]] = {}
    for command_info in commands:
        name = command_info.name or get_command_name(command_info.callback.__name__)  # type: ignore[union-attr]
        makers[name] = partial(_command, command_info, settings)
        listers[name] = partial(_listed, command_info, name, settings)
    for sub_info in groups:  # after the commands, as typer orders them
        assert sub_info.typer_instance is not None and isinstance(sub_info.name, str)
        makers[sub_info.name] = partial(lazy_group, sub_info.typer_instance, sub_info, settings)
    # typer builds the group itself (its callback and options) with no
    # subcommands; they are put back at once, whatever happens.
    typer_instance.registered_commands, typer_instance.registered_groups = [], []
    try:
        group = get_group_from_info(group_info, **settings)
    finally:
        typer_instance.registered_commands, typer_instance.registered_groups = commands, groups
    group.commands = LazyCommands(makers, listers)
    return group


class LazyTyper(typer.Typer):
    """The app, run as typer runs it (`typer.main.get_command` for a group),
    but with each subcommand built only when it is used (`LazyCommands`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from typer.main import TyperInfo, except_hook, get_install_completion_arguments

        if sys.excepthook != except_hook:
            sys.excepthook = except_hook
        group = lazy_group(self, TyperInfo(self), {
            "pretty_exceptions_short": self.pretty_exceptions_short,
            "rich_markup_mode": self.rich_markup_mode,
            "suggest_commands": self.suggest_commands,
        })
        if self._add_completion:
            group.params.extend(get_install_completion_arguments())
        return group(*args, **kwargs)
