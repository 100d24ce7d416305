"""`astra-auth token NAME`: a valid access token on stdout, for scripts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from astra_auth import validate
from astra_auth.commands.targets import lookup
from astra_auth.credentials import require_oauth2
from astra_auth.deps import Deps
from astra_auth.errors import UsageError


@dataclass
class TokenOptions:
    name: str
    format: str = "bare"
    min_ttl: float = 60.0
    no_cache: bool = False


def token(opts: TokenOptions, deps: Deps) -> None:
    try:
        validate.choice(opts.format, validate.TOKEN_FORMATS)
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    if not 0 <= opts.min_ttl <= 86400:
        raise UsageError("--min-ttl: give a number of seconds between 0 and 86400")
    config = deps.config.load()
    target = lookup(config, opts.name, deps)
    require_oauth2(target)

    from astra_auth.tokens import TokenSource

    source = TokenSource(target, deps, min_ttl=opts.min_ttl, use_cache=not opts.no_cache)
    # A TokenError carries the category, hints and exit code of test-token; the
    # CLI prints it on stderr, and nothing reaches stdout.
    got = source.get()
    if opts.format == "bare":
        deps.io.write_out(got.access_token + "\n")
    elif opts.format == "header":
        kind = "Bearer" if got.token_type.lower() == "bearer" else got.token_type
        deps.io.write_out(f"Authorization: {kind} {got.access_token}\n")
    else:
        import datetime as dt

        expires = dt.datetime.fromtimestamp(got.expires_at, dt.UTC)
        deps.io.write_out(json.dumps({
            "access_token": got.access_token,
            "token_type": got.token_type,
            "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }) + "\n")
