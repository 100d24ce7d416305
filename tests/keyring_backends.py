"""Broken keyring backends, selected in a subprocess with PYTHON_KEYRING_BACKEND.

Each imitates a way a real keyring fails on users' machines.
"""

from __future__ import annotations

import os
import time

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked


class _Base(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return self.fail()

    def set_password(self, service: str, username: str, password: str) -> None:
        self.fail()

    def delete_password(self, service: str, username: str) -> None:
        self.fail()

    def fail(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError


class Hanging(_Base):
    """A Secret Service waiting forever for an unlock prompt nobody sees.

    Each call is written to the file named by HANGING_KEYRING_LOG first, so a
    test counts the calls made instead of timing them.
    """

    def get_password(self, service: str, username: str) -> str | None:
        return self._hang("get", username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang("set", username)

    def delete_password(self, service: str, username: str) -> None:
        self._hang("delete", username)

    def _hang(self, op: str, username: str):  # type: ignore[no-untyped-def]
        log = os.environ.get("HANGING_KEYRING_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"{op} {username}\n")
        time.sleep(3600)


class Locked(_Base):
    def fail(self):  # type: ignore[no-untyped-def]
        raise KeyringLocked("Failed to unlock the collection!")


class Raising(_Base):
    def fail(self):  # type: ignore[no-untyped-def]
        raise KeyringError("org.freedesktop.DBus.Error.ServiceUnknown: no such name")


class PlaintextKeyring(_Base):
    """Stands for keyrings.alt's plain-file backend, which must be refused."""

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a plain-file backend must never be written to")

    def delete_password(self, service: str, username: str) -> None:
        return None
