"""Typed errors and the contract's exit codes.

Every failure a user can cause or meet is an `AstraError` carrying its exit code
and, where there is something to do about it, hints.  The translation into text
on stderr happens in exactly one place, `astra_auth.cli.run`.
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

    def __init__(self, message: str, *, hints: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


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
                "set ASTRA_AUTH_CLIENT_SECRET (and ASTRA_AUTH_PASSWORD for the password "
                "grant) where the tool runs.",
            ],
        )


class SilentError(AstraError):
    """The command has already printed its diagnosis; only the exit code is left."""

    def __init__(self, exit_code: ExitCode) -> None:
        super().__init__("")
        self.exit_code = exit_code
