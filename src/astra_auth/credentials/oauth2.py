"""Tokens that renew themselves: a cache in the keyring, refresh, and a new grant.

`TokenSource.get()` returns a token valid for at least `min_ttl` seconds:
1. the cached one, when it was made with the same settings and is still fresh;
2. else one from its refresh token (RFC 6749 §6);
3. else one from a new grant.
The cache lives in the keyring entry `<target>:token` (docs/files-and-secrets.md).  Beside the
config file, `.config.toml.tokens.json` keeps only each cached token's expiry, so that
`targets list` can show it without opening the keyring.  With `--secrets env`,
no usable keyring, or `use_cache=False`, nothing is kept.

The device-code and authorization-code grants (docs/auth/login.md) have no grant to
repeat unattended: `astra-auth login` stores a refresh token in
`<target>:refresh_token`, and step 2 reads it from there, under the same lock,
every time (another process may have rotated it), and stores the one the
provider rotates to.  Without a usable one: `login_required`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astra_auth.core.errors import AstraError, KeyringUnavailable
from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential, RefusalRule, SourceSettings
from astra_auth.credentials.oauth2_request import dpop_prover, grant_request
from astra_auth.credentials.renewal import renew_at
from astra_auth.credentials.secrets import SecretProblem
from astra_auth.net.transport import Deadline
from astra_auth.oauth import unverified_jwt as jwt
from astra_auth.oauth.grant import GrantRequest, Outcome, request_token
from astra_auth.storage.config import Target, file_lock
from astra_auth.storage.paths import beside
from astra_auth.storage.secretstore import entry, env_names, env_source, sources
from astra_auth.storage.token_state import write_state

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.signing.dpop import DpopProver

# The secrets that make a token: one given in a variable is hashed into the
# cache key, so that a token made with another is not reused.
KEY_KINDS = ("client_secret", "password", "private_key", "dpop_key")
# Without expires_in or a JWT exp claim, a token is trusted this long: short,
# so that an unknown lifetime costs a few extra requests, never a failed scan.
DEFAULT_LIFETIME = 300
_CACHE_VERSION = 1


@dataclass
class CachedToken:
    access_token: str = field(repr=False)
    token_type: str
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    key: str = ""
    # When it was issued (None in caches written before 0.2): with expires_at,
    # its lifetime, which the renewal rule needs.
    issued_at: float | None = None

    def renew_at(self, min_ttl: float | None = None) -> float:
        """When to stop using this token (`astra_auth.credentials.renewal`)."""
        return renew_at(self.issued_at, self.expires_at, min_ttl)

    def fresh(self, now: float, min_ttl: float | None = None) -> bool:
        return now < self.renew_at(min_ttl)

    def to_json(self) -> str:
        return json.dumps({"v": _CACHE_VERSION, "key": self.key,
                           "access_token": self.access_token, "token_type": self.token_type,
                           "expires_at": self.expires_at, "refresh_token": self.refresh_token,
                           "scope": self.scope, "issued_at": self.issued_at})

    @classmethod
    def from_json(cls, text: str) -> CachedToken | None:
        try:
            data = json.loads(text)
            if data.get("v") != _CACHE_VERSION:
                return None
            issued = data.get("issued_at")
            return cls(access_token=str(data["access_token"]), token_type=str(data["token_type"]),
                       expires_at=float(data["expires_at"]),
                       refresh_token=data.get("refresh_token"), scope=data.get("scope"),
                       key=str(data["key"]),
                       issued_at=float(issued) if isinstance(issued, int | float) else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def cache_key(target: Target, environ: dict[str, str] | Any) -> str:
    """Everything that makes a token, hashed.

    Secrets given in the environment are hashed in.  Secrets in the keyring are
    not read for this (a second keyring round trip on every call): `configure`
    and `targets remove` drop the cached token whenever they change one.
    """
    o = target.oauth2
    assert o is not None
    parts = [o.token_url, o.grant_type, o.client_id, o.client_auth, o.username or "",
             o.scope or "", o.audience or "", o.secrets,
             # A token made for other parameters or another key is not reused.
             json.dumps(o.extra_params, sort_keys=True), o.assertion_alg or "",
             o.assertion_audience or "", o.certificate or "", str(o.certificate_bound),
             # A DPoP-bound token never goes out without its proof, nor a
             # Bearer token with one: each is cached for its own settings.
             f"dpop:{o.dpop_algorithm}" if o.dpop else "bearer"]
    for kind in KEY_KINDS:
        variable = env_source(target.name, kind, environ)
        parts.append("env:" + hashlib.sha256(environ[variable].encode()).hexdigest()
                     if variable else "store")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def access_token_credential(access_token: str, token_type: str, expires_at: float | None,
                            scope: str | None, dpop: DpopProver | None = None) -> Credential:
    """An OAuth 2.0 access token as the API receives it (RFC 6750 §2.1).  A
    DPoP-bound one (token_type DPoP, RFC 9449 §7.1) goes as `DPoP <token>`,
    never without a fresh proof of `dpop`'s key: its signer adds one to each
    request."""
    kind = "Bearer" if token_type.lower() == "bearer" else token_type
    signer = None
    if token_type.lower() == "dpop":
        kind = "DPoP"
        if dpop is None:
            raise CredentialError(Failure(
                Category.INVALID_TOKEN_RESPONSE,
                "The provider issued a DPoP-bound token (token_type DPoP), but this target "
                "has no DPoP key to prove it with."), [
                "Turn DPoP on for the target: astra-auth configure NAME --dpop"])
        signer = dpop.for_token(access_token)
    return Credential(location="header", name="Authorization", value=f"{kind} {access_token}",
                      token=access_token, token_type=token_type, expires_at=expires_at,
                      scope=scope, signer=signer)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenSource:
    """An OAuth 2.0 target's access tokens: the one place for caching and renewal.

    Thread-safe and single-flight: a thread lock inside the process and a file
    lock between processes, so that concurrent callers share one token request.
    Implements `astra_auth.credentials.interface.CredentialSource`.
    """

    def __init__(self, target: Target, deps: Deps, *, min_ttl: float | None = None,
                 use_cache: bool = True, timeout: float = 10.0,
                 ca_bundle: Path | None = None,
                 on_event: Callable[[str, str], None] | None = None) -> None:
        assert target.oauth2 is not None
        self.target = target
        self.deps = deps
        self.min_ttl = min_ttl
        self.use_cache = use_cache and target.oauth2.secrets == "keyring"
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self.on_event = on_event
        self._memory: CachedToken | None = None
        # device_code, authorization_code: renewal only from the stored refresh token.
        self._login = target.oauth2.needs_login
        # RFC 6749 §2.3.1 lets a client authenticate either way, and a grant
        # refused with invalid_client tries the other method once
        # (`request_token`).  Once per source, not on every renewal: during an
        # outage or with a wrong secret, two refused logins per attempt is how
        # providers that count them lock a client out.  When the other method
        # worked, it is the one used from then on.
        self._other_method_tried = False
        self._client_auth: str | None = None
        self._thread_lock = threading.RLock()
        self._refusals = RefusalRule()
        # peek() runs on every request the proxy forwards: the cache key is
        # computed again only when a variable it hashes has changed, and the
        # credential is made once per token.
        self._key_variables = [name for kind in KEY_KINDS
                               for name in env_names(target.name, kind)]
        # DPoP (RFC 9449): one prover for every token and API request, so that
        # the nonces the provider and the API give are kept; read on first use.
        self._dpop: DpopProver | None = None
        self._key_memo: tuple[tuple[str | None, ...], str] | None = None
        self._peeked: tuple[CachedToken, Credential] | None = None

    @property
    def _entry(self) -> str:
        return entry(self.target.name, "token")

    # -- the CredentialSource interface ---------------------------------------

    def get(self) -> Credential:
        self._prover()
        return self.credential(self.token())

    def peek(self) -> Credential | None:
        memory = self._fresh_memory()
        if memory is None:
            return None
        peeked = self._peeked
        if peeked is None or peeked[0] is not memory:
            peeked = self._peeked = (memory, self.credential(memory))
        return peeked[1]

    def _fresh_memory(self) -> CachedToken | None:
        """The token in memory when it is still fresh (no I/O, no lock)."""
        memory = self._memory
        if (memory is not None and memory.key == self._cache_key()
                and memory.fresh(self.deps.clock(), self.min_ttl)):
            return memory
        return None

    def _cache_key(self) -> str:
        """`cache_key` of this target, recomputed only when one of the
        variables it hashes has changed."""
        environ = self.deps.environ
        values = tuple(map(environ.get, self._key_variables))
        memo = self._key_memo
        if memo is None or memo[0] != values:
            memo = self._key_memo = (values, cache_key(self.target, environ))
        return memo[1]

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        with self._thread_lock:
            current = self.credential(self._memory) if self._memory is not None else None
            return self._refusals.respond(
                failed, www_authenticate, current,
                lambda: self.credential(self.token(refused=_digest(failed.token or ""))))

    def credential(self, token: CachedToken) -> Credential:
        try:
            return access_token_credential(token.access_token, token.token_type,
                                           token.expires_at, token.scope, self._dpop)
        except CredentialError as exc:
            raise self._error(exc.failure) from None

    # -- tokens ---------------------------------------------------------------

    def token(self, *, force: bool = False, refused: str | None = None) -> CachedToken:
        """A token valid for at least `min_ttl` seconds.

        `force`: a new one from a new grant, whatever is cached.  `refused`: the
        digest of a token the API refused; any other fresh token will do (a
        parallel caller may have renewed already), else refresh or grant.
        """
        key = self._cache_key()
        if not force and refused is None:
            memory = self._fresh_memory()
            if memory is not None:
                return memory
        with self._thread_lock, self._lock():
            memory = self._memory
            if (not force and memory is not None and memory.key == key
                    and (refused is None or _digest(memory.access_token) != refused)
                    and memory.fresh(self.deps.clock(), self.min_ttl)):
                # Another thread got one while this one waited for the lock
                # (without a keyring cache, nothing else would tell).
                return memory
            cached = None if force else self._load(key)
            if cached is not None and refused is not None and _digest(
                    cached.access_token) == refused:
                cached, stale = None, cached
            else:
                stale = cached
            if cached is not None and cached.fresh(self.deps.clock(), self.min_ttl):
                self._memory = cached
                return cached
            if stale is None and self._memory is not None and self._memory.key == key:
                stale = self._memory
            token = None
            if self._login:
                token = self._from_login(key)
            elif stale is not None and stale.refresh_token and not force:
                token = self._refresh(stale, key)
            if token is None:
                token = self._grant(key)
            self._store(token)
            self._memory = token
            self._event("renewed", f"{self.target.name}: new token, valid "
                        f"{_seconds(token.expires_at - self.deps.clock())}")
            return token

    # -- the login grants (device_code, authorization_code) ------------------

    @property
    def _refresh_entry(self) -> str:
        return entry(self.target.name, "refresh_token")

    def adopt(self, outcome: Outcome) -> CachedToken:
        """Keep what `astra-auth login` obtained: its refresh token in
        `<target>:refresh_token` (none issued: an older one, from another
        login, is removed), its access token in the usual cache."""
        with self._thread_lock, self._lock():
            token = self._from_outcome(outcome, cache_key(self.target, self.deps.environ))
            if token.refresh_token:
                self.deps.secrets.set(self._refresh_entry, token.refresh_token)
            else:
                self.deps.secrets.delete(self._refresh_entry)
            token.refresh_token = None  # it has one place: its own keyring entry
            self._store(token)
            self._memory = token
            return token

    def refresh_outcome(self, deadline: Deadline | None = None) -> Outcome:
        """One refresh with the stored refresh token, as `test-token` reports it:
        the outcome of the request, with the rotated refresh token stored and
        the new access token cached.  A missing or refused refresh token is a
        `login_required` failure in the outcome."""
        with self._thread_lock, self._lock():
            refresh = self._stored_refresh_token()
            if refresh is None:
                return Outcome(None, self._no_login(), None, self.target.oauth2.client_auth
                               if self.target.oauth2 else "basic", [], 0)
            outcome = self._request(self._refresh_request(refresh), try_other=False,
                                    deadline=deadline)
            if outcome.token is None:
                assert outcome.failure is not None
                outcome.failure = _login_failure(outcome.failure, self.target.name)
                return outcome
            token = self._from_outcome(outcome, cache_key(self.target, self.deps.environ))
            self._keep_rotated(token, refresh)
            self._store(token)
            self._memory = token
            return outcome

    def _from_login(self, key: str) -> CachedToken:
        refresh = self._stored_refresh_token()
        if refresh is None:
            raise self._error(self._no_login())
        outcome = self._request(self._refresh_request(refresh), try_other=False)
        if outcome.token is None:
            assert outcome.failure is not None
            raise self._error(_login_failure(outcome.failure, self.target.name))
        token = self._from_outcome(outcome, key)
        self._keep_rotated(token, refresh)
        return token

    def _stored_refresh_token(self) -> str | None:
        # Read under the lock every time: another process may have rotated it.
        return self.deps.secrets.get(self._refresh_entry) or None

    def _refresh_request(self, refresh: str) -> GrantRequest:
        """RFC 6749 §6, with the client authenticating as for its grant."""
        base = self._base_request()
        return GrantRequest(
            token_url=base.token_url, grant_type="refresh_token", client_id=base.client_id,
            client_secret=base.client_secret, client_auth=base.client_auth,
            scope=base.scope, refresh_token=refresh,
            client_key=base.client_key, assertion_alg=base.assertion_alg,
            assertion_audience=base.assertion_audience, assertion_kid=base.assertion_kid,
            clock=base.clock,
            tls_identity=base.tls_identity, extra_params=base.extra_params, dpop=base.dpop,
        )

    def _keep_rotated(self, token: CachedToken, used: str) -> None:
        """Store the refresh token the provider rotated to (RFC 6749 §6; the old
        one is now void), before anything else can fail."""
        if token.refresh_token and token.refresh_token != used:
            self.deps.secrets.set(self._refresh_entry, token.refresh_token)
        token.refresh_token = None

    def _no_login(self) -> Failure:
        return Failure(Category.LOGIN_REQUIRED,
                       f"No refresh token for {self.target.name}: nobody has logged in on "
                       f"this machine yet (keyring entry {self._refresh_entry!r} is empty).")

    def invalidate(self) -> None:
        """Forget the token (the API refused it); the next `get` makes a new one."""
        self._memory = None
        if self.use_cache:
            with contextlib.suppress(AstraError):
                self.deps.secrets.delete(self._entry)
            write_state(self.deps.config_path, self.target.name, None)

    # -- the three ways to a token ------------------------------------------

    def _load(self, key: str) -> CachedToken | None:
        if not self.use_cache:
            return None
        try:
            text = self.deps.secrets.get(self._entry)
        except KeyringUnavailable:
            self.use_cache = False  # no usable keyring: work without a cache
            return None
        cached = CachedToken.from_json(text) if text else None
        return cached if cached is not None and cached.key == key else None

    def _base_request(self) -> GrantRequest:
        try:
            if self._dpop is None:
                self._dpop = dpop_prover(self.target, self.deps)
            return grant_request(self.target, self.deps, dpop=self._dpop)
        except SecretProblem as exc:
            raise self._error(exc.failure) from None

    def _prover(self) -> None:
        """Read the DPoP key before a cached token is handed out: a bound token
        goes nowhere without the key that proves it."""
        if self._dpop is None and self.target.oauth2 is not None and self.target.oauth2.dpop:
            try:
                self._dpop = dpop_prover(self.target, self.deps)
            except SecretProblem as exc:
                raise self._error(exc.failure) from None

    def _refresh(self, stale: CachedToken, key: str) -> CachedToken | None:
        assert stale.refresh_token is not None
        req = self._refresh_request(stale.refresh_token)
        outcome = self._request(req, try_other=False)
        if outcome.token is None:
            return None  # an expired or revoked refresh token: fall back to a grant
        token = self._from_outcome(outcome, key)
        if token.refresh_token is None:
            token.refresh_token = stale.refresh_token  # §6: the old one stays valid
        return token

    def _grant(self, key: str) -> CachedToken:
        req = self._base_request()
        if self._client_auth is not None:
            req = replace(req, client_auth=self._client_auth)
        outcome = self._request(req, try_other=not self._other_method_tried)
        if outcome.switched_client_auth:
            self._client_auth = outcome.client_auth
        if outcome.switched_client_auth or (
                outcome.failure is not None and "other_client_auth" in outcome.failure.details):
            self._other_method_tried = True
        if outcome.token is None:
            assert outcome.failure is not None
            raise self._error(outcome.failure)
        return self._from_outcome(outcome, key)

    def _request(self, req: GrantRequest, *, try_other: bool,
                 deadline: Deadline | None = None) -> Outcome:
        return request_token(
            req, lambda: self.deps.http_client(self.timeout, self.ca_bundle,
                                               identity=req.tls_identity),
            timeout=self.timeout, deadline=deadline, try_other_client_auth=try_other,
            monotonic=self.deps.monotonic,
        )

    def _from_outcome(self, outcome: Outcome, key: str) -> CachedToken:
        token = outcome.token
        assert token is not None
        now = self.deps.clock()
        if token.expires_in is not None:
            expires_at = now + token.expires_in
        else:
            claims = jwt.claims(token.access_token) or {}
            exp = claims.get("exp")
            expires_at = float(exp) if isinstance(exp, int | float) and not isinstance(
                exp, bool) else now + DEFAULT_LIFETIME
        return CachedToken(token.access_token, token.token_type, expires_at,
                           token.refresh_token, token.scope, key, issued_at=now)

    def _store(self, token: CachedToken) -> None:
        if not self.use_cache:
            return
        try:
            self.deps.secrets.set(self._entry, token.to_json())
        except KeyringUnavailable:
            self.use_cache = False
            return
        write_state(self.deps.config_path, self.target.name, token.expires_at)

    def _error(self, failure: Failure) -> CredentialError:
        """The error for `failure`, told to the consumer's log first; its
        hints are the diagnosis layer's to add."""
        self._event("failed",
                    f"{self.target.name}: no token: {failure.category}: {failure.message}")
        return CredentialError(failure, target=self.target,
                               secret_sources=sources(self.target, self.deps.environ))

    def _event(self, kind: str, text: str) -> None:
        if self.on_event is not None:
            self.on_event(kind, text)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One process at a time fetches a target's token; the others then find it.

        The login grants always lock, cache or not: two processes refreshing
        with one rotating refresh token at once would void it (RFC 9700 §4.14.2)."""
        if not self.use_cache and not self._login:
            yield
            return
        config_path = self.deps.config_path
        with contextlib.ExitStack() as stack:
            try:
                config_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                stack.enter_context(file_lock(beside(config_path,
                                                     f"token-{self.target.name}.lock")))
            except OSError:
                pass  # without the lock each process asks for its own token: still correct
            yield


def _login_failure(failure: Failure, name: str) -> Failure:
    """A refused refresh token (invalid_grant: expired, revoked, or rotated
    away) is cured only by a new login: `login_required`, with the provider's
    answer kept.  Anything else (the network, the client) keeps its category."""
    if failure.category != Category.INVALID_GRANT:
        return failure
    desc = f" ({failure.oauth_error_description})" if failure.oauth_error_description else ""
    return Failure(Category.LOGIN_REQUIRED,
                   f"The provider refused the stored refresh token for {name}: invalid_grant"
                   f"{desc}. It expired or was revoked; a new login is needed.",
                   http_status=failure.http_status, oauth_error=failure.oauth_error,
                   oauth_error_description=failure.oauth_error_description)


def _seconds(value: float) -> str:
    whole = max(0, round(value))
    return f"{whole} second{'' if whole == 1 else 's'}"


def open(target: Target, deps: Deps, settings: SourceSettings) -> TokenSource:  # noqa: A001
    return TokenSource(target, deps, min_ttl=settings.min_ttl, use_cache=settings.use_cache,
                       timeout=settings.timeout if settings.timeout is not None else 10.0,
                       ca_bundle=settings.ca_bundle,
                       on_event=settings.on_event)
