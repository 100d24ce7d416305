"""The one signing step: a credential put on a request that will not change again.

Every consumer (the proxy, `auth_for`, the Schemathesis provider, test-token's
API check) builds its request and makes every change of its own first (the
proxy's `Host`, its header removals), then calls `authenticate` last: the
credential's static part goes in (`Credential.apply`), and where the
credential has a signer (aws_sigv4, http_signature, digest, a DPoP-bound
token), the request exactly as it will be sent is signed and the signature's
headers are written on top.  What the API receives is what was signed.

Every answer then goes to `answer`: a scheme may respond to what the API said
(Digest's 401 challenge, a DPoP nonce) with headers to put on top of the
signed request and send it once more, which the consumer does when it kept
the body.  Otherwise a 401 is the source's to `renew`, as for any credential.

Signing never does I/O.  A scheme's refusal to sign becomes the
`invalid_key` category (what is wrong is the key or a setting, never the
network); a body that streams past what the consumer holds (1 MiB) where the
scheme covers the body and has no unsigned form is `BodyNotSignable`, which
the proxy answers with a 502 of its own; an answer the scheme cannot respond
to (a Digest challenge for an algorithm it does not know) is
`ChallengeRefused`: the API's answer stands, and the consumer says why.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential, _pop_all

if TYPE_CHECKING:
    from astra_auth.signing.message import HeaderUpdate, Request

# The proxy's category for a body it cannot sign (its own refusals have such names).
BODY_NOT_SIGNABLE = "body_not_signable"


class BodyNotSignable(Exception):
    """The scheme covers the body, but it streams past what was held.  The
    message and `hint` are ours: they name settings, never a value."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class ChallengeRefused(Exception):
    """The API's answer asks for something the scheme cannot do (RFC 7616's
    qop=auth-int, an unknown algorithm).  The message is ours."""

    def failure(self) -> Failure:
        return Failure(Category.API_UNAUTHORIZED, str(self))


@dataclass(frozen=True)
class Signed:
    """A request with its credential on: the URL to send (a query-parameter
    credential changes it), and the request as signed (None: nothing signs)."""

    url: str
    request: Request | None = None


def authenticate(credential: Credential, method: str, url: str,
                 headers: MutableMapping[str, str], body: bytes | None, *, name: str) -> Signed:
    """Put `credential` (target `name`'s) on the request: `headers` are changed
    in place, the URL to send is returned.  `body`: the whole body (b"" for
    none), or None when it streams and was not held."""
    url = credential.apply(headers, url)
    signer = credential.signer
    if signer is None:
        return Signed(url)
    from astra_auth.signing.message import BodyRequired, Request, SigningError

    request = Request(method.upper(), url, tuple(_items(headers)), body)
    try:
        update = signer.sign(request)
    except BodyRequired as exc:
        from astra_auth.text.shellcmd import configure

        raise BodyNotSignable(str(exc), (
            "Send a smaller body (one up to 1 MiB is held and signed), or stop covering the "
            "body: " + configure(name, "--component", "@method", "--component", "@target-uri",
                                 "--component", "content-type"))) from None
    except SigningError as exc:
        raise signing_error(name, exc) from None
    write(headers, update)
    return Signed(url, request.updated(update))


def answer(credential: Credential, signed: Signed, status: int,
           headers: Iterable[tuple[str, str]], body: bytes = b"") -> HeaderUpdate | None:
    """What to put on top of the signed request to send it once more, after
    the API answered it with `status` and `headers` (every answer: a scheme may
    keep what any gives, as a DPoP nonce); None: send nothing again."""
    if signed.request is None or credential.signer is None:
        return None
    from astra_auth.signing.message import Response, SigningError

    try:
        return credential.signer.challenge(signed.request, Response(status, tuple(headers),
                                                                    body))
    except SigningError as exc:
        raise ChallengeRefused(str(exc)) from None


def again(signed: Signed, update: HeaderUpdate) -> Signed:
    """`signed` with a challenge's answer on top (for the one retry)."""
    assert signed.request is not None
    return Signed(signed.url, signed.request.updated(update))


def write(headers: MutableMapping[str, str], update: HeaderUpdate) -> None:
    """Apply a signer's update: each header it names replaced (whatever its
    case, every line of it) or removed."""
    for name, value in update.items():
        _pop_all(headers, name)
        if value is not None:
            headers[name] = value


def signing_error(name: str, exc: Exception) -> CredentialError:
    """A scheme refused to sign a request of target `name`: `invalid_key`, in
    the scheme's own words (they name settings and header names, never a value)."""
    from astra_auth.text.shellcmd import command

    return CredentialError(Failure(Category.INVALID_KEY, f"{exc}"), [
        "Check the target's settings and key: " + command("targets", "show", name)
        + "; change them with: " + command("configure", name)])


def _items(headers: MutableMapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every header line, a name that comes twice once per line where the
    mapping keeps them apart (aiohttp's and httpx's do)."""
    multi = getattr(headers, "multi_items", None)
    if multi is not None:
        return list(multi())
    return list(headers.items())
