"""Prompts: an interface, and its rich implementation for a real terminal.

The walk-through asks through `Prompter` only, so tests script it with
`tests.fakes.ScriptedPrompter` and a pseudo-terminal test drives the real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from astra_auth.ui.iostreams import IOStreams


@dataclass(frozen=True)
class Choice:
    label: str
    help: str = ""


class Prompter(Protocol):
    def select(self, message: str, choices: Sequence[Choice], default: int = 0,
               note: str = "") -> int:
        """Ask for one of `choices`; return its index.  `note`: a line said
        below the options, for what their one-line explanations leave out."""

    def text(self, message: str, default: str | None = None) -> str:
        """Ask for a line of text; Enter gives `default` (or "" without one)."""

    def secret(self, message: str) -> str:
        """Ask for a secret without echoing it; Enter gives ""."""

    def confirm(self, message: str, default: bool) -> bool:
        """Ask a yes/no question."""


def menu_lines(choices: Sequence[Choice]) -> list[Text]:
    """A menu's options, one line each: the number, the label, and its
    explanation after the labels' common width ("  2) Basic    — a username…")."""
    from rich.cells import cell_len
    from rich.text import Text

    digits = len(str(len(choices)))
    width = max((cell_len(c.label) for c in choices if c.help), default=0)
    lines = []
    for number, choice in enumerate(choices, start=1):
        line = Text.assemble("  ", (f"{number:>{digits}}", "cyan"), ") ", choice.label)
        if choice.help:
            line.append(" " * (width - cell_len(choice.label) + 1))
            line.append("— " + choice.help, style="dim")
        lines.append(line)
    return lines


def show_menu(console: Console, message: str, choices: Sequence[Choice], note: str = "") -> None:
    """The question, its options and the note below them."""
    from rich.text import Text

    console.print(Text(message, style="bold"))
    for line in menu_lines(choices):
        # One line per option whatever the width: a narrow terminal cuts the
        # explanation short ("…") rather than wrapping it under the numbers.
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
    if note:
        console.print(Text(note, style="dim"))


class RichPrompter:
    """Prompts at a real terminal, through rich.prompt."""

    def __init__(self, io: IOStreams) -> None:
        self.io = io

    @property
    def console(self):  # type: ignore[no-untyped-def]
        return self.io.out

    def select(self, message: str, choices: Sequence[Choice], default: int = 0,
               note: str = "") -> int:
        from rich.prompt import Prompt

        show_menu(self.console, message, choices, note)
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
