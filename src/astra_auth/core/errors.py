"""Typed errors and their exit codes (docs/exit-codes.md).

Every failure a user can cause or meet is an `AstraError` carrying its exit code
and, where there is something to do about it, hints.  The translation into text
on stderr happens in exactly one place, `astra_auth.cli.app.run`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class ExitCode(enum.IntEnum):
    OK = 0
    # A bug: the message tells the user how to report it.
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    # The identity provider answered with an OAuth error.
    REJECTED = 4
    # The token endpoint could not be reached at all.
    UNREACHABLE = 5
    # The endpoint answered, but not with a usable token.
    BAD_RESPONSE = 6
    # The credential was obtained, but the API under test refused it (401/403).
    API_REFUSED = 7
    # 128 + SIGINT, what shells report for an interrupted program.
    INTERRUPTED = 130


class AstraError(Exception):
    """Base of all errors meant for the user; never carries a secret."""

    exit_code: ExitCode = ExitCode.INTERNAL
    # The error category (docs/troubleshooting.md) where one fits a usage or
    # configuration error too, as "insecure_url" does; None otherwise.
    category: str | None = None

    def __init__(self, message: str, *, hints: Sequence[str] = (),
                 category: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hints = list(hints)
        if category is not None:
            self.category = category


class UsageError(AstraError):
    """A bad flag or value, or a required value missing without a terminal."""

    exit_code = ExitCode.USAGE


class ConfigError(AstraError):
    """Unknown target, unreadable or invalid config file, missing secret."""

    exit_code = ExitCode.CONFIG


class KeyringUnavailable(ConfigError):
    """No usable OS keyring: none installed, locked, failing or hanging."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The OS keyring is not usable: {reason}",
            hints=[
                "Start or unlock a Secret Service (GNOME Keyring, KeePassXC) in this "
                "session; on a headless machine run the tool inside "
                "`dbus-run-session` with `gnome-keyring-daemon --unlock`.",
                "Or keep no secret on this machine: configure with `--secrets env` and "
                "set the target's variables where the tool runs: ASTRA_AUTH_<TARGET>_<KIND> "
                "(e.g. ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET for target payments-api), or "
                "ASTRA_AUTH_<KIND> (e.g. ASTRA_AUTH_CLIENT_SECRET) for every target.",
            ],
        )


class SilentError(AstraError):
    """The command has already printed its diagnosis; only the exit code is left."""

    def __init__(self, exit_code: ExitCode) -> None:
        super().__init__("")
        self.exit_code = exit_code


def bug_location(exc: BaseException) -> str:
    """" at FILE:LINE" of the frame that raised `exc` ("" without a traceback),
    for a one-line bug report that quotes nothing of the exception's text."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    filename = tb.tb_frame.f_code.co_filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f" at {filename}:{tb.tb_lineno}"


def redacted_traceback(exc: BaseException) -> list[str]:
    """The traceback of `exc` and its causes for a bug report, without any message.

    Frames (file, line, function, source line) are the program's own text;
    an exception's message may hold a secret (a library may put a request's
    body there), so only its type is shown.
    """
    import traceback

    chain: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    note = ""
    while current is not None and len(chain) < 10 and all(current is not e for e, _ in chain):
        chain.append((current, note))
        if current.__cause__ is not None:
            current, note = current.__cause__, ("The above exception was the direct cause of "
                                                 "the following exception:")
        elif current.__context__ is not None and not current.__suppress_context__:
            current, note = current.__context__, ("During handling of the above exception, "
                                                  "another exception occurred:")
        else:
            current = None
    lines: list[str] = []
    for error, link in reversed(chain):
        lines.append("Traceback (most recent call last; messages withheld, they may hold "
                     "a secret):")
        for frame in traceback.format_list(traceback.extract_tb(error.__traceback__)):
            lines.extend(frame.rstrip("\n").splitlines())
        lines.append(f"{type(error).__module__}.{type(error).__qualname__}")
        if link:
            lines += ["", link, ""]
    return lines
