"""HTTP Basic (RFC 7617): a username from the config, the password from the keyring."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.static import StaticSource
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def header_value(username: str, password: str) -> str:
    # RFC 7617 §2.1: UTF-8 is the charset every current server expects.
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    assert target.basic is not None
    username = target.basic.username
    return StaticSource(
        target, deps, settings, "password", "password",
        lambda password: Credential("header", "Authorization",
                                    header_value(username, password), token_type="Basic"),
    )
