"""A backend named like keyrings.alt's file backends, but not called plain-anything.

astra-auth must refuse it by its module alone: keyrings.alt keeps secrets in a
file, whatever its classes are called.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend


class EncryptedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a keyrings.alt backend must never be written to")

    def delete_password(self, service: str, username: str) -> None:
        return None
