"""What an imported document says about authentication, as typed values.

The readers (`imports.openapi`, `imports.postman`) return an `Imported`: the
API's URL and one `Scheme` per way of authenticating that the document
describes.  A scheme's `settings` use the names of the config file's
`[targets.NAME.<auth_type>]` table (`grant_type`, `token_url`, `scope`,
`name`, `location`, …); the secrets a Postman collection holds are kept apart
in `secrets`, by keyring kind, and never in `settings`, a repr or a message.
Nothing here is tied to `configure`'s options: it maps these values onto its
own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from astra_auth.core.errors import AstraError, ExitCode

# A setting's value: text, a flag (`certificate_bound`) or a table
# (`extra_params`).
Setting = str | bool | Mapping[str, str]

# Why the OAuth 2.0 implicit flow is not imported, and what to use instead.
IMPLICIT = ("the OAuth 2.0 implicit flow is not supported: it hands the token to a browser "
            "page, with no refresh token and no client authentication, and RFC 9700 §2.1.2 "
            "deprecates it. astra-auth supports the authorization code flow (with PKCE) instead: "
            "ask the provider to allow it for this client, or choose another scheme")


class DocumentError(AstraError):
    """A document that cannot be read or used: where (file, line, JSON path) and why."""

    def __init__(self, message: str, *, exit_code: ExitCode = ExitCode.USAGE,
                 hints: list[str] | None = None, category: str | None = None) -> None:
        super().__init__(message, hints=hints or [], category=category)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Secret:
    """A secret found in a file: its keyring kind (`client_secret`, `password`,
    `bearer_token`, `api_key`, `secret_access_key`, `session_token`), its value,
    and the files that hold it (or part of it: a value built of variables)."""

    kind: str
    value: str = field(repr=False)
    found_in: tuple[str, ...]


@dataclass(frozen=True)
class Scheme:
    """One way of authenticating that a document describes.

    `name` is the document's own name for it: the security scheme's key in an
    OpenAPI document, the item path in a Postman collection ("" for the
    collection itself).  An OAuth 2.0 scheme with several flows gives one
    `Scheme` per flow (`flow`: the document's name of the flow).
    `auth_type` is the config's (`oauth2`, `basic`, `bearer`, `api_key`,
    `digest`, `aws_sigv4`); None when `unsupported` says why the scheme cannot
    be used and what astra-auth supports instead.  `issuer`: an OAuth 2.0
    provider whose discovery document gives what the settings lack.  `notes`:
    what was left out or assumed, and why, one sentence each.
    """

    name: str
    description: str
    auth_type: str | None
    settings: Mapping[str, Setting] = field(default_factory=dict)
    secrets: tuple[Secret, ...] = ()
    flow: str | None = None
    issuer: str | None = None
    unsupported: str | None = None
    notes: tuple[str, ...] = ()
    # Postman `{{variables}}` that neither the collection nor the environment
    # defines: the settings and secrets that use one are left out.
    unresolved: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """How a user names this scheme: `name`, or `name:flow` for one flow of several."""
        return self.name if self.flow is None else f"{self.name}:{self.flow}"

    @property
    def usable(self) -> bool:
        return self.unsupported is None

    def matches(self, wanted: str) -> bool:
        """True when `wanted` names this scheme: its id, or its name alone."""
        return wanted in (self.id, self.name)


@dataclass(frozen=True)
class Imported:
    """What one document (with its environment, for Postman) says.

    `source` is the file or URL read; `format` names what it is ("OpenAPI
    3.1.0", "Swagger 2.0", "Postman collection v2.1"); `url` the API's URL
    (None when the document does not say it, or not usably: `notes` says why).
    `files_with_secrets` names each file that holds a secret (one that
    `schemes` carry, or a token Postman cached), for the warning that it does.
    """

    source: str
    format: str
    url: str | None
    schemes: tuple[Scheme, ...]
    notes: tuple[str, ...] = ()
    files_with_secrets: tuple[str, ...] = ()

    @property
    def holds_secrets(self) -> bool:
        return bool(self.files_with_secrets)

    def usable(self) -> tuple[Scheme, ...]:
        return tuple(s for s in self.schemes if s.usable)
