"""OAuth 2.0: access tokens from the configured grant, cached and renewed by
`astra_auth.tokens.TokenSource`."""

from __future__ import annotations

from astra_auth.config import Target
from astra_auth.credential import SourceSettings
from astra_auth.deps import Deps
from astra_auth.tokens import TokenSource


def open(target: Target, deps: Deps, settings: SourceSettings) -> TokenSource:  # noqa: A001
    return TokenSource(target, deps, min_ttl=settings.min_ttl, use_cache=settings.use_cache,
                       timeout=settings.timeout if settings.timeout is not None else 10.0,
                        ca_bundle=settings.ca_bundle,
                       on_event=settings.on_event, renew_share=settings.renew_share)
