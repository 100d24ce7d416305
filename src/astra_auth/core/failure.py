"""Why a credential could not be had: one category per failure (docs/troubleshooting.md).

`Category` is the one list of the error categories (docs/troubleshooting.md): the exit-code
map below, the hints (`hints._HANDLERS`) and the JSON (`error.category`) all
take their names from it, so a category cannot exist in one and not the other
(tests/test_hints.py checks that each has its exit code and its hints).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from astra_auth.core.errors import AstraError, ExitCode

if TYPE_CHECKING:  # a type only: this layer imports nothing above it
    from astra_auth.storage.config import Target


class Category(enum.StrEnum):
    """The JSON's `error.category` values (docs/troubleshooting.md)."""

    # The endpoint could not be reached.
    DNS_ERROR = "dns_error"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_ERROR = "connection_error"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    # The endpoint answered, but not with a usable token.
    REDIRECT = "redirect"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    HTTP_ERROR = "http_error"
    NOT_JSON = "not_json"
    INVALID_TOKEN_RESPONSE = "invalid_token_response"
    # The provider's RFC 6749 §5.2 error codes, each a category of its own.
    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_SCOPE = "invalid_scope"
    # Any other error code a provider sends.
    OAUTH_ERROR = "oauth_error"
    # The one human step of the device-code and authorization-code grants.
    LOGIN_REQUIRED = "login_required"
    LOGIN_TIMEOUT = "login_timeout"
    ACCESS_DENIED = "access_denied"
    # Configuration on this machine.
    MISSING_SECRET = "missing_secret"
    INVALID_KEY = "invalid_key"
    # A URL over plain http to a host that is not loopback: exit 2 where the
    # user typed it, 3 from the config file, 4 (the default) where a provider
    # sent it.
    INSECURE_URL = "insecure_url"
    # The authorization response's `iss` (RFC 9207) is not the provider's issuer.
    ISSUER_MISMATCH = "issuer_mismatch"
    # The credential was obtained, but the API under test refused it.
    API_UNAUTHORIZED = "api_unauthorized"
    API_FORBIDDEN = "api_forbidden"

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


# RFC 6749 §5.2 error codes: a provider's `error` that is one of these is shown
# as it is (it is one of six known words) and becomes that category.
RFC6749_ERRORS = frozenset({
    Category.INVALID_REQUEST,
    Category.INVALID_CLIENT,
    Category.INVALID_GRANT,
    Category.UNAUTHORIZED_CLIENT,
    Category.UNSUPPORTED_GRANT_TYPE,
    Category.INVALID_SCOPE,
})

# The exit-code table of docs/exit-codes.md, row by row.
_EXIT_CODES: dict[Category, ExitCode] = {
    category: code
    for code, categories in {
        ExitCode.CONFIG: (Category.MISSING_SECRET, Category.INVALID_KEY),
        ExitCode.REJECTED: (*sorted(RFC6749_ERRORS), Category.OAUTH_ERROR,
                            Category.LOGIN_REQUIRED, Category.LOGIN_TIMEOUT,
                            Category.ACCESS_DENIED, Category.ISSUER_MISMATCH,
                            Category.INSECURE_URL),
        ExitCode.UNREACHABLE: (Category.DNS_ERROR, Category.CONNECTION_REFUSED,
                               Category.CONNECTION_ERROR, Category.TIMEOUT,
                               Category.TLS_ERROR),
        ExitCode.BAD_RESPONSE: (Category.REDIRECT, Category.NOT_FOUND,
                                Category.METHOD_NOT_ALLOWED, Category.RATE_LIMITED,
                                Category.SERVER_ERROR, Category.HTTP_ERROR, Category.NOT_JSON,
                                Category.INVALID_TOKEN_RESPONSE),
        ExitCode.API_REFUSED: (Category.API_UNAUTHORIZED, Category.API_FORBIDDEN),
    }.items()
    for category in categories
}


@dataclass
class Failure:
    """A failed token request, already redacted: safe to print as it is."""

    category: Category
    message: str
    http_status: int | None = None
    oauth_error: str | None = None
    oauth_error_description: str | None = None
    # Facts that sharpen the hints: a redirect's target, an HTML page's title...
    details: dict[str, str] = field(default_factory=dict)
    # The exit code where it is not the category's own: an `insecure_url`
    # that came from the config file is a configuration problem (3).
    exit: ExitCode | None = None

    def __post_init__(self) -> None:
        # A plain string is accepted where it names a category; anything else
        # is a bug, and says which value it was.
        self.category = Category(self.category)

    @property
    def exit_code(self) -> ExitCode:
        return self.exit if self.exit is not None else self.category.exit_code

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "message": self.message,
            "http_status": self.http_status,
            "oauth_error": self.oauth_error,
            "oauth_error_description": self.oauth_error_description,
        }


class CredentialError(AstraError):
    """No credential could be had (a token, a key, a secret), whatever the auth type.

    Attributes (documented in the README, for scripts that catch it):
    `category` (an `astra_auth.core.failure.Category`, a str: the JSON's
    `error.category`, e.g. "invalid_client"), `hints` (list of str, what to do,
    most specific first), `exit_code` (the exit code for that category,
    docs/exit-codes.md), `message` ("<category>: <what happened>"), and `failure` (the
    whole redacted `Failure`: `http_status`, `oauth_error`,
    `oauth_error_description`).  None of them holds a secret.

    A credential source raises it without hints, with what they need instead:
    `target` (the target as configured) and `secret_sources` (where each of
    its secrets came from: "keyring", "missing" or a variable's name).  What
    to do about a failure is the diagnosis layer's to say:
    `explain` in diagnosis/hints.py fills `hints` in for whoever shows
    the error (the CLI, the proxy, `auth_for`, the Schemathesis provider).
    """

    def __init__(self, failure: Failure, hints: Sequence[str] = (), *,
                 target: Target | None = None,
                 secret_sources: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{failure.category}: {failure.message}", hints=hints)
        self.failure = failure
        self.category = failure.category
        self.exit_code = failure.exit_code
        self.target = target
        self.secret_sources = dict(secret_sources or {})


# The name it had when only OAuth 2.0 tokens could fail; scripts catch it by it.
TokenError = CredentialError
