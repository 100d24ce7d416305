"""Terminal IO: the streams, whether they are terminals, and the rich consoles.

One object decides whether the tool may prompt, so that no command has to guess
(the shape of the GitHub CLI's `iostreams`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from astra_auth.text.safetext import clean

if TYPE_CHECKING:
    from rich.console import Console


class IOStreams:
    # A plain class rather than a dataclass: ~0.3 ms less on every start.
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO,
                 stdin_is_tty: bool = False, stdout_is_tty: bool = False,
                 # Rendering width when not at a terminal (tests, pipes).
                 width: int | None = None) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.stdin_is_tty = stdin_is_tty
        self.stdout_is_tty = stdout_is_tty
        self.width = width
        self._out: Console | None = None
        self._err: Console | None = None

    @classmethod
    def system(cls) -> IOStreams:
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_is_tty=_isatty(sys.stdin),
            stdout_is_tty=_isatty(sys.stdout),
        )

    def can_prompt(self, *, no_input: bool = False) -> bool:
        """Prompt only with a person at both ends and no `--no-input`."""
        return self.stdin_is_tty and self.stdout_is_tty and not no_input

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = self._console(self.stdout, self.stdout_is_tty)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = self._console(self.stderr, _isatty(self.stderr))
        return self._err

    def _console(self, file: TextIO, is_tty: bool) -> Console:
        return _safe_console_class()(
            file=file,
            force_terminal=is_tty or None,
            width=None if is_tty else (self.width or 100),
            highlight=False,
        )

    # One-line messages are never wrapped: off a terminal a wrapped line breaks
    # grep, and a terminal or log viewer wraps by itself.
    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]![/yellow] {_escape(message)}", soft_wrap=True)

    def info(self, message: str) -> None:
        self.err.print(_escape(message), soft_wrap=True)

    def success(self, message: str) -> None:
        self.err.print(f"[green]✓[/green] {_escape(message)}", soft_wrap=True)

    def write_out(self, text: str) -> None:
        """Plain text on stdout, for machine-readable output (JSON, tokens).

        Neutralised like everything else: JSON from `safetext.dumps` and a token
        (RFC 6749 visible ASCII, checked when it arrived) pass unchanged."""
        self.stdout.write(clean(text))
        self.stdout.flush()


_SAFE_CONSOLE: type[Console] | None = None


def _safe_console_class() -> type[Console]:
    """A rich Console that neutralises every text segment it writes.

    This is the one output layer: whatever a command passes to
    `io.out` / `io.err` (a panel, a table, a markup string), each piece of text
    is escaped by `safetext.clean` just before it reaches the stream.  rich's
    own escape sequences (colours, the spinner's cursor moves) are styles and
    control segments, which are left alone.  tests/test_text.py proves it
    on a real Console, so a rich release that renders differently fails there.
    """
    global _SAFE_CONSOLE
    if _SAFE_CONSOLE is None:
        from rich.console import Console
        from rich.segment import Segment

        class SafeConsole(Console):
            def _render_buffer(self, buffer: Any) -> str:
                safe = (segment if segment.control else Segment(clean(segment.text),
                                                                  segment.style)
                        for segment in buffer)
                return super()._render_buffer(safe)

        _SAFE_CONSOLE = SafeConsole
    return _SAFE_CONSOLE


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
