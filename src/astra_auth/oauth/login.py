"""What the two login flows share: how one ends without a token."""

from __future__ import annotations

from astra_auth.core.failure import Failure


class LoginFailed(Exception):
    """`astra-auth login` ended without a token; `failure` says why (already redacted)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure
