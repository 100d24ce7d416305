"""An `httpx.Auth` for scanners and scripts: bearer tokens that renew themselves."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Generator
from pathlib import Path

import httpx

from astra_auth.tokens import DEFAULT_MIN_TTL, TokenSource


class AstraAuth(httpx.Auth):
    """Attaches a valid bearer token to each request.

    Renews the token before it expires (`min_ttl`); when the API answers 401,
    renews once and retries the request once.  Works with `httpx.Client` and
    `httpx.AsyncClient` (token requests then run in a worker thread, so the
    event loop is never blocked).
    """

    requires_request_body = True  # so the request can be sent a second time

    def __init__(self, source: TokenSource) -> None:
        self._source = source
        self._lock = threading.Lock()

    def _token(self, *, force: bool = False) -> str:
        with self._lock:
            if force:
                self._source.invalidate()
            return self._source.get(force=force).access_token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token()}"
        response = yield request
        if response.status_code == 401:
            response.read()
            request.headers["Authorization"] = f"Bearer {self._token(force=True)}"
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        import anyio.to_thread

        token = await anyio.to_thread.run_sync(self._token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            await response.aread()
            token = await anyio.to_thread.run_sync(lambda: self._token(force=True))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


def auth_for(
    name: str,
    *,
    config: str | Path | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
    timeout: float = 10.0,
    ca_bundle: str | Path | None = None,
) -> AstraAuth:
    """The `httpx.Auth` for a target configured with `astra-auth configure`.

    Raises `astra_auth.TokenError` (with `.category` and `.hints`) when no token
    can be had, and `astra_auth.AstraError` for an unknown target or a bad
    config file.
    """
    from astra_auth.commands.targets import lookup
    from astra_auth.credentials import require_oauth2
    from astra_auth.deps import Deps

    deps = Deps.system(Path(config) if config is not None else None)
    target = lookup(deps.config.load(), name, deps)
    require_oauth2(target)
    source = TokenSource(target, deps, min_ttl=min_ttl, timeout=timeout,
                         ca_bundle=Path(ca_bundle) if ca_bundle is not None else None)
    return AstraAuth(source)
