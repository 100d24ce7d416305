"""Why a token request failed: one contract category per failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from astra_auth.errors import ExitCode

# RFC 6749 §5.2 error codes, each a category of its own.
RFC6749_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
)

EXIT_CODES: dict[str, ExitCode] = {
    "dns_error": ExitCode.UNREACHABLE,
    "connection_refused": ExitCode.UNREACHABLE,
    "timeout": ExitCode.UNREACHABLE,
    "tls_error": ExitCode.UNREACHABLE,
    "redirect": ExitCode.BAD_RESPONSE,
    "not_found": ExitCode.BAD_RESPONSE,
    "method_not_allowed": ExitCode.BAD_RESPONSE,
    "rate_limited": ExitCode.BAD_RESPONSE,
    "server_error": ExitCode.BAD_RESPONSE,
    "http_error": ExitCode.BAD_RESPONSE,
    "not_json": ExitCode.BAD_RESPONSE,
    "invalid_token_response": ExitCode.BAD_RESPONSE,
    **{code: ExitCode.REJECTED for code in RFC6749_ERRORS},
    "oauth_error": ExitCode.REJECTED,
    "missing_secret": ExitCode.CONFIG,
}
CATEGORIES = tuple(EXIT_CODES)


@dataclass
class Failure:
    """A failed token request, already redacted: safe to print as it is."""

    category: str
    message: str
    http_status: int | None = None
    oauth_error: str | None = None
    oauth_error_description: str | None = None
    # Facts that sharpen the hints: a redirect's target, an HTML page's title...
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.category in EXIT_CODES, self.category

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_CODES[self.category]

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "message": self.message,
            "http_status": self.http_status,
            "oauth_error": self.oauth_error,
            "oauth_error_description": self.oauth_error_description,
        }
