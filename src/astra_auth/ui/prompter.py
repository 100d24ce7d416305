"""Prompts: an interface, and its rich implementation for a real terminal.

The walk-through asks through `Prompter` only, so tests script it with
`tests.fakes.ScriptedPrompter` and a pseudo-terminal test drives the real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from astra_auth.ui.iostreams import IOStreams


@dataclass(frozen=True)
class Choice:
    label: str
    help: str = ""


class Prompter(Protocol):
    def select(self, message: str, choices: Sequence[Choice], default: int = 0) -> int:
        """Ask for one of `choices`; return its index."""

    def text(self, message: str, default: str | None = None) -> str:
        """Ask for a line of text; Enter gives `default` (or "" without one)."""

    def secret(self, message: str) -> str:
        """Ask for a secret without echoing it; Enter gives ""."""

    def confirm(self, message: str, default: bool) -> bool:
        """Ask a yes/no question."""


class RichPrompter:
    """Prompts at a real terminal, through rich.prompt."""

    def __init__(self, io: IOStreams) -> None:
        self.io = io

    @property
    def console(self):  # type: ignore[no-untyped-def]
        return self.io.out

    def select(self, message: str, choices: Sequence[Choice], default: int = 0) -> int:
        from rich.markup import escape
        from rich.prompt import Prompt

        self.console.print(f"[bold]{escape(message)}[/bold]")
        for number, choice in enumerate(choices, start=1):
            line = f"  [cyan]{number}[/cyan]) {escape(choice.label)}"
            if choice.help:
                line += f" [dim]— {escape(choice.help)}[/dim]"
            self.console.print(line)
        numbers = [str(n) for n in range(1, len(choices) + 1)]
        answer = Prompt.ask(
            "Choose",
            console=self.console,
            choices=numbers,
            default=str(default + 1),
            show_choices=len(numbers) > 1,
        )
        return int(answer) - 1

    def text(self, message: str, default: str | None = None) -> str:
        from rich.markup import escape
        from rich.prompt import Prompt

        if default is None:
            return Prompt.ask(escape(message), console=self.console, default="", show_default=False)
        return Prompt.ask(escape(message), console=self.console, default=default)

    def secret(self, message: str) -> str:
        from rich.markup import escape
        from rich.prompt import Prompt

        return Prompt.ask(
            escape(message), console=self.console, password=True, default="", show_default=False
        )

    def confirm(self, message: str, default: bool) -> bool:
        from rich.markup import escape
        from rich.prompt import Confirm

        return Confirm.ask(escape(message), console=self.console, default=default)
