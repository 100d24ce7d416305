"""The one interface every consumer of a credential uses.

A target is "something that yields the request's credential".  `token`, `exec`,
`astra_auth.auth_for`, `proxy` and `test-token` all ask a `CredentialSource`
for a `Credential` and attach it with `Credential.apply`; none of them knows
which auth type made it, and none keeps a cache or renews by itself.

Each auth type is one module in this package (`astra_auth.credentials`) with an `open(target,
deps, settings)` function returning a `CredentialSource`; `SOURCES` below maps
`auth_type` to that module.  A new type is a new module, one line here, and its
walk-through steps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from astra_auth.core.errors import ConfigError
from astra_auth.net.settings import network
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.signing.message import Signer

# "signature": nothing goes in as it is; the credential's signer writes what
# authenticates each request (`astra_auth.credentials.signing`).
Location = Literal["header", "query", "cookie", "signature"]

# auth_type -> the module that implements it (imported only when used).
SOURCES = {
    "oauth2": "astra_auth.credentials.oauth2",
    "basic": "astra_auth.credentials.basic",
    "bearer": "astra_auth.credentials.bearer",
    "api_key": "astra_auth.credentials.api_key",
    "jwt": "astra_auth.credentials.jwt",
    "aws_sigv4": "astra_auth.credentials.aws_sigv4",
    "http_signature": "astra_auth.credentials.http_signature",
    "digest": "astra_auth.credentials.digest",
}


@dataclass(frozen=True)
class Credential:
    """One request's authentication, exactly as the scanner sends it.

    `location` and `name` say where it goes: a header (`Authorization`,
    `X-API-Key`), a query parameter or a cookie.  `value` is what goes there
    (the whole header value, `Bearer …`); `token` is the bare token or key, for
    `token --format bare` and `ASTRA_AUTH_TOKEN` (None where there is none, as
    for Basic).

    `signer` signs each request on top (aws_sigv4, http_signature, digest, and
    a DPoP-bound token's proofs): such a credential cannot be handed over once,
    and goes to a request only through `astra_auth.credentials.signing`,
    after every other change to it.  Its `location` is "signature" where
    nothing goes in as it is (the signer writes every header).
    """

    location: Location
    name: str
    value: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    token_type: str | None = None
    expires_at: float | None = None
    scope: str | None = None
    signer: Signer | None = field(default=None, repr=False, compare=False)

    @classmethod
    def signed(cls, signer: Signer, token_type: str) -> Credential:
        """A credential that is only a signer: every request is signed anew."""
        return cls("signature", "", "", token_type=token_type, signer=signer)

    @property
    def needs_body(self) -> bool:
        """Whether signing reads the request's body (a SigV4 payload hash, an
        RFC 9530 Content-Digest): the consumer must hold the body to sign it."""
        return self.signer is not None and self.signer.needs_body

    def apply(self, headers: MutableMapping[str, str], url: str) -> str:
        """Put this credential into `headers` (replacing any the client sent)
        and return `url` with it (a query parameter replaced) where it goes there.
        A signer is not applied here: see `astra_auth.credentials.signing`."""
        if self.location == "signature":
            return url
        if self.location == "header":
            _drop(headers, self.name)
            headers[self.name] = self.value
        elif self.location == "cookie":
            headers_cookie = _pop_all(headers, "cookie")
            kept = [
                part.strip() for part in "; ".join(headers_cookie).split(";")
                if part.strip() and part.strip().split("=", 1)[0].strip() != self.name
            ]
            headers["Cookie"] = "; ".join([*kept, f"{self.name}={self.value}"])
        else:
            # The client's own pairs go on byte for byte (a scanner's payloads
            # in odd encodings included); only those of this name are dropped.
            parts = urlsplit(url)
            pairs = parts.query.split("&") if parts.query else []
            kept = [pair for pair in pairs if unquote_plus(pair.split("=", 1)[0]) != self.name]
            kept.append(urlencode({self.name: self.value}))
            url = urlunsplit(parts._replace(query="&".join(kept)))
        return url

    def apply_to_http(self, headers: MutableMapping[str, str], url: str) -> str:
        """`apply` for a request that an HTTP library will send and may log: a
        credential that goes into the URL is masked in those logs first."""
        if self.location == "query":
            from astra_auth.text.logmask import mask_in_http_logs

            mask_in_http_logs(self.value)
        return self.apply(headers, url)

    @property
    def header_line(self) -> str | None:
        """`Name: value` for a header credential, else None."""
        return f"{self.name}: {self.value}" if self.location == "header" else None


def _drop(headers: MutableMapping[str, str], name: str) -> None:
    _pop_all(headers, name)


def _pop_all(headers: MutableMapping[str, str], name: str) -> list[str]:
    """Remove every `name` header, whatever its case, and return their values.

    A name can come twice (two Cookie lines from a scanner): a multi-valued
    mapping's own getall / get_list gives each value, and one delete removes
    them all.
    """
    lowered = name.lower()
    values: list[str] = []
    for key in dict.fromkeys(k for k in list(headers) if k.lower() == lowered):
        getall = getattr(headers, "getall", None) or getattr(headers, "get_list", None)
        values.extend(getall(key) if getall is not None else [headers[key]])
        del headers[key]
    return values


class CredentialSource(Protocol):
    """A target's credentials, fresh on every `get`.

    Implementations are thread-safe and single-flight: callers waiting on a
    renewal share its one request.  Both methods block (keyring, network): an
    event loop calls them in a worker thread.
    """

    target: Target

    def get(self) -> Credential:
        """A credential that the renewal rule still lets be used (renewed if not).

        Raises `CredentialError` (category, hints, exit code) when none can be had.
        """
        ...

    def peek(self) -> Credential | None:
        """The current credential when it is fresh and can be had without waiting
        (no keyring, no network, no lock), else None: then call `get`.

        For an event loop's hot path: `source.peek() or await to_thread(source.get)`.
        """
        ...

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        """The API answered 401 to `failed`: the credential to retry with, or None.

        Renews only while `failed` is still the current credential (five
        refused requests mean one renewal), at most once per credential, and
        not at all when the API's `WWW-Authenticate` names another error than
        `invalid_token` (a missing scope is not cured by a new token).
        """
        ...


@dataclass(frozen=True)
class SourceSettings:
    """How a consumer wants its credentials: the same knobs for every type."""

    # None: the target's own `timeout` / `ca_bundle` (else 10 s, none).
    timeout: float | None = None
    ca_bundle: Path | None = None
    # The caller's own demand on top of the renewal rule
    # (`astra_auth.credentials.renewal`): a credential that will not live for
    # this many more seconds is renewed first (`token --min-ttl`).
    min_ttl: float | None = None
    use_cache: bool = True
    # Called with ("renewed", line) after each new credential and ("failed",
    # line) when none could be had: printable lines, never a token (the proxy's log).
    on_event: Callable[[str, str], None] | None = None


def settings_for(target: Target, settings: SourceSettings) -> SourceSettings:
    """`settings` with the target's own timeout and CA bundle where the consumer
    gave none (`timeout=None`, `ca_bundle=None`)."""
    from dataclasses import replace

    timeout, ca_bundle = network(target, settings.timeout, settings.ca_bundle)
    return replace(settings, timeout=timeout, ca_bundle=ca_bundle)


def open_source(target: Target, deps: Deps, settings: SourceSettings | None = None
                ) -> CredentialSource:
    """The credential source for `target`, whatever its auth type, behind the
    shared rules of `astra_auth.credentials.shared` (one call at a time, a
    back-off after a failure, values checked before they go into a header)."""
    from dataclasses import replace

    from astra_auth.credentials.shared import SharedSource

    settings = settings_for(target, settings or SourceSettings())
    module_name = SOURCES.get(target.auth_type or "")
    if module_name is None:
        from astra_auth.text.shellcmd import command

        raise ConfigError(
            f"target {target.name!r} has no authentication configured yet",
            hints=["Set it up with: " + command("configure", target.name)],
        )
    module = importlib.import_module(module_name)

    def make(on_event: Callable[[str, str], None]) -> CredentialSource:
        source: CredentialSource = module.open(target, deps, replace(settings,
                                                                     on_event=on_event))
        return source

    return SharedSource(make, target, environ=deps.environ, monotonic=deps.monotonic,
                        timeout=settings.timeout if settings.timeout is not None else 10.0,
                        on_event=settings.on_event, clock=deps.clock,
                        min_ttl=settings.min_ttl)


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of `url`, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


class RefusalRule:
    """When a 401 should lead to a new credential; shared by every source that renews.

    - The API's `WWW-Authenticate` names another error than `invalid_token`
      (RFC 6750 §3.1: `insufficient_scope`, `invalid_request`): stop; a new
      credential will not help.
    - The refused credential is no longer the current one: retry with the
      current one (another request renewed meanwhile: five refusals, one renewal).
    - The refused credential was itself made because its predecessor was
      refused: stop; the API refuses even fresh ones.
    - Otherwise renew, once.
    """

    def __init__(self) -> None:
        self._replacements: set[str] = set()

    def decide(self, failed: Credential, www_authenticate: str | None,
               current: str | None) -> Literal["stop", "current", "renew"]:
        error = bearer_error(www_authenticate)
        if error is not None and error != "invalid_token":
            return "stop"
        if failed.token is None:
            return "stop"
        refused = _digest(failed.token)
        if current is not None and _digest(current) != refused:
            return "current"
        if refused in self._replacements:
            return "stop"
        return "renew"

    def renewed(self, token: str) -> None:
        self._replacements.add(_digest(token))

    def respond(self, failed: Credential, www_authenticate: str | None,
                current: Credential | None, renew: Callable[[], Credential]
                ) -> Credential | None:
        """What a source's `renew` returns: None, the current credential, or a
        new one from `renew()` (then remembered as a replacement).  The caller
        holds its lock."""
        step = self.decide(failed, www_authenticate, current.token if current else None)
        if step == "stop":
            return None
        if step == "current":
            return current
        fresh = renew()
        assert fresh.token is not None
        self.renewed(fresh.token)
        return fresh


def _digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def bearer_error(www_authenticate: str | None) -> str | None:
    """The RFC 6750 §3 `error` parameter of a Bearer challenge, if any."""
    if not www_authenticate:
        return None
    import re

    match = re.search(r'\berror\s*=\s*"?([A-Za-z_]+)"?', www_authenticate)
    return match.group(1) if match else None
