"""Schemathesis's hooks module for astra-auth::

    SCHEMATHESIS_HOOKS=astra_auth.schemathesis ASTRA_AUTH_TARGET=payments-api \\
        st run https://api.example.com/openapi.json

Importing it registers the auth provider for the target named by
`ASTRA_AUTH_TARGET`; the provider itself is `astra_auth.integrations.schemathesis`.
"""

from astra_auth.integrations.schemathesis import (
    AstraAuthError,
    AstraAuthProvider,
    from_environment,
    register,
)

__all__ = ["AstraAuthError", "AstraAuthProvider", "register"]

from_environment()
