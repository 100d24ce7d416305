"""The request a scheme signs, the answer it may respond to, and what it changes.

Every scheme in this package works on these plain values, never on a client's
or a server's own request type: the proxy, `auth_for` and the API check each
turn theirs into a `Request` at the last moment (after every other change:
what the API receives is what was signed) and apply the `HeaderUpdate` that
comes back.

- `Request.url` is the absolute URL exactly as it goes on the wire
  (percent-encoded; the path and query are signed as they are sent).
- `Request.body` is the whole body, or None when it streams past what the
  caller buffers (1 MiB): a scheme that covers the body then uses its
  unsigned form (SigV4's UNSIGNED-PAYLOAD) or refuses (`BodyRequired`).
- A `HeaderUpdate` maps a header name to its new value, replacing every
  header of that name whatever its case, or to None: remove it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

Headers = tuple[tuple[str, str], ...]
HeaderUpdate = dict[str, str | None]


def _joined(headers: Headers, name: str) -> str | None:
    """Every value of `name`, joined as RFC 9110 §5.3 combines field lines; None when absent."""
    lowered = name.lower()
    values = [value for key, value in headers if key.lower() == lowered]
    return ", ".join(values) if values else None


@dataclass(frozen=True)
class Request:
    """One HTTP request as it will be sent."""

    method: str
    url: str
    headers: Headers = ()
    # None: the body streams and is not available to sign (see the module's text).
    body: bytes | None = b""

    def header(self, name: str) -> str | None:
        return _joined(self.headers, name)

    def updated(self, update: HeaderUpdate) -> Request:
        """This request with `update` applied (as a client would apply it)."""
        return Request(self.method, self.url, apply_update(self.headers, update), self.body)


@dataclass(frozen=True)
class Response:
    """What the server answered: enough to recognise a challenge."""

    status: int
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return _joined(self.headers, name)

    def all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


def apply_update(headers: Iterable[tuple[str, str]], update: HeaderUpdate) -> Headers:
    """`headers` with every header that `update` names replaced or removed."""
    named = {name.lower() for name in update}
    kept = [(key, value) for key, value in headers if key.lower() not in named]
    return (*kept, *((name, value) for name, value in update.items() if value is not None))


class Signer(Protocol):
    """One scheme, ready to sign requests for one target.

    Implementations are thread-safe; `sign` never does I/O.
    """

    # True when `sign` reads `Request.body` (a payload hash, a Content-Digest):
    # the caller must buffer the body (up to 1 MiB) before signing.
    needs_body: bool

    def sign(self, request: Request) -> HeaderUpdate:
        """The headers that authenticate `request`, applied last."""
        ...

    def challenge(self, request: Request, response: Response) -> HeaderUpdate | None:
        """`response` answered `request` (signed with `sign`): the headers to put
        on top of the signed request to send it again (once), or None when a
        retry cannot help.  Call it with every answer, not only refusals: a
        scheme may keep what any answer gives (RFC 9449 §8.2's DPoP-Nonce)."""
        ...


class SigningError(Exception):
    """A request that cannot be signed.  The message is ours: it names settings
    and header names, never a key, a secret or a header's value."""


class InvalidKey(SigningError):
    """A key or secret that cannot sign with the configured algorithm."""


class BodyRequired(SigningError):
    """The scheme covers the body, but the body streams (`Request.body` is None)."""
