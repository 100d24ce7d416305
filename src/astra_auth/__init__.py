"""astra-auth: tell an API security scanner how to authenticate to the API it tests,
and keep it authenticated for the whole scan.

For scanners and scripts::

    import httpx
    import astra_auth

    with httpx.Client(auth=astra_auth.auth_for("payments-api")) as client:
        client.get("https://api.example.com/things")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from astra_auth.core.version import __version__

__all__ = ["AstraAuth", "AstraError", "CredentialError", "TokenError", "__version__", "auth_for",
           "ssl_context_for"]

if TYPE_CHECKING:
    from astra_auth.core.errors import AstraError
    from astra_auth.core.failure import CredentialError, TokenError
    from astra_auth.integrations.httpx_auth import AstraAuth, auth_for, ssl_context_for


def __getattr__(name: str) -> Any:
    # Lazy: the CLI imports this package on every start and must not pay for
    # httpx (see tests/test_completion.py's import-boundary tests).
    if name in ("auth_for", "AstraAuth", "ssl_context_for"):
        from astra_auth.integrations import httpx_auth

        return getattr(httpx_auth, name)
    if name in ("CredentialError", "TokenError"):
        from astra_auth.core import failure

        return getattr(failure, name)
    if name == "AstraError":
        from astra_auth.core.errors import AstraError

        return AstraError
    raise AttributeError(f"module 'astra_auth' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names are served lazily by __getattr__, so the module's own
    # namespace lacks them: without this, dir(), REPL completion and IDEs
    # would not show auth_for.
    return sorted(set(globals()) | set(__all__))
