"""Tokens that renew themselves: a cache in the keyring, refresh, and a new grant.

`TokenSource.get()` returns a token valid for at least `min_ttl` seconds:
1. the cached one, when it was made with the same settings and is still fresh;
2. else one from its refresh token (RFC 6749 §6);
3. else one from a new grant.
The cache lives in the keyring entry `<target>:token` (contract).  Beside the
config file, `.tokens.json` keeps only each cached token's expiry, so that
`targets list` can show it without opening the keyring.  With `--secrets env`,
no usable keyring, or `use_cache=False`, nothing is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_auth.config import Target, file_lock
from astra_auth.credentials import MissingSecret, grant_request
from astra_auth.deps import Deps
from astra_auth.errors import AstraError, KeyringUnavailable
from astra_auth.oauth import jwt
from astra_auth.oauth.failure import Failure
from astra_auth.oauth.grant import GrantRequest, Outcome, request_token
from astra_auth.oauth.hints import Context, hints_for
from astra_auth.secretstore import CLIENT_SECRET_ENV, PASSWORD_ENV, entry
from astra_auth.token_state import write_state

# Without expires_in or a JWT exp claim, a token is trusted this long: short,
# so that an unknown lifetime costs a few extra requests, never a failed scan.
DEFAULT_LIFETIME = 300
DEFAULT_MIN_TTL = 60
_CACHE_VERSION = 1


class TokenError(AstraError):
    """No token could be had; carries the contract's category and hints."""

    def __init__(self, failure: Failure, hints: list[str]) -> None:
        super().__init__(f"{failure.category}: {failure.message}", hints=hints)
        self.failure = failure
        self.category = failure.category
        self.exit_code = failure.exit_code


@dataclass
class CachedToken:
    access_token: str = field(repr=False)
    token_type: str
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    key: str = ""

    def fresh(self, now: float, min_ttl: float) -> bool:
        return self.expires_at - now > min_ttl

    def to_json(self) -> str:
        return json.dumps({"v": _CACHE_VERSION, "key": self.key,
                           "access_token": self.access_token, "token_type": self.token_type,
                           "expires_at": self.expires_at, "refresh_token": self.refresh_token,
                           "scope": self.scope})

    @classmethod
    def from_json(cls, text: str) -> CachedToken | None:
        try:
            data = json.loads(text)
            if data.get("v") != _CACHE_VERSION:
                return None
            return cls(access_token=str(data["access_token"]), token_type=str(data["token_type"]),
                       expires_at=float(data["expires_at"]),
                       refresh_token=data.get("refresh_token"), scope=data.get("scope"),
                       key=str(data["key"]))
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
             o.scope or "", o.audience or "", o.secrets]
    for env_name in (CLIENT_SECRET_ENV, PASSWORD_ENV):
        value = environ.get(env_name)
        parts.append("env:" + hashlib.sha256(value.encode()).hexdigest() if value else "store")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class TokenSource:
    def __init__(self, target: Target, deps: Deps, *, min_ttl: float = DEFAULT_MIN_TTL,
                 use_cache: bool = True, timeout: float = 10.0,
                 ca_bundle: Path | None = None) -> None:
        assert target.oauth2 is not None
        self.target = target
        self.deps = deps
        self.min_ttl = min_ttl
        self.use_cache = use_cache and target.oauth2.secrets == "keyring"
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self._memory: CachedToken | None = None

    @property
    def _entry(self) -> str:
        return entry(self.target.name, "token")

    def get(self, *, force: bool = False) -> CachedToken:
        """A token valid for at least `min_ttl` seconds (a new one if `force`)."""
        key = cache_key(self.target, self.deps.environ)
        now = self.deps.clock()
        if not force and self._memory and self._memory.key == key and self._memory.fresh(
                now, self.min_ttl):
            return self._memory
        with self._lock():
            cached = None if force else self._load(key)
            if cached is not None and cached.fresh(self.deps.clock(), self.min_ttl):
                self._memory = cached
                return cached
            stale = cached or (self._memory if self._memory and self._memory.key == key else None)
            token = None
            if stale is not None and stale.refresh_token and not force:
                token = self._refresh(stale, key)
            if token is None:
                token = self._grant(key)
            self._store(token)
            self._memory = token
            return token

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
            return grant_request(self.target, self.deps)
        except MissingSecret as exc:
            raise self._error(exc.failure) from None

    def _refresh(self, stale: CachedToken, key: str) -> CachedToken | None:
        base = self._base_request()
        req = GrantRequest(
            token_url=base.token_url, grant_type="refresh_token", client_id=base.client_id,
            client_secret=base.client_secret, client_auth=base.client_auth,
            scope=base.scope, refresh_token=stale.refresh_token,
        )
        outcome = self._request(req, try_other=False)
        if outcome.token is None:
            return None  # an expired or revoked refresh token: fall back to a grant
        token = self._from_outcome(outcome, key)
        if token.refresh_token is None:
            token.refresh_token = stale.refresh_token  # §6: the old one stays valid
        return token

    def _grant(self, key: str) -> CachedToken:
        outcome = self._request(self._base_request(), try_other=True)
        if outcome.token is None:
            assert outcome.failure is not None
            raise self._error(outcome.failure)
        return self._from_outcome(outcome, key)

    def _request(self, req: GrantRequest, *, try_other: bool) -> Outcome:
        return request_token(
            req, lambda: self.deps.http_client(self.timeout, self.ca_bundle),
            timeout=self.timeout, try_other_client_auth=try_other, monotonic=self.deps.monotonic,
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
                           token.refresh_token, token.scope, key)

    def _store(self, token: CachedToken) -> None:
        if not self.use_cache:
            return
        try:
            self.deps.secrets.set(self._entry, token.to_json())
        except KeyringUnavailable:
            self.use_cache = False
            return
        write_state(self.deps.config_path, self.target.name, token.expires_at)

    def _error(self, failure: Failure) -> TokenError:
        return TokenError(failure, hints_for(failure, Context.of(self.target)))

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One process at a time fetches a target's token; the others then find it."""
        if not self.use_cache:
            yield
            return
        folder = self.deps.config_path.parent
        with contextlib.ExitStack() as stack:
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                stack.enter_context(file_lock(folder / f".token-{self.target.name}.lock"))
            except OSError:
                pass  # without the lock each process asks for its own token: still correct
            yield
