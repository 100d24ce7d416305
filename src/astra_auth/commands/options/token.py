"""`astra-auth token`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from astra_auth.core import validate
from astra_auth.core.cli_params import CA_BUNDLE, TIMEOUT, Argument, Option


@dataclass
class TokenOptions:
    name: Annotated[str, Argument(help="Target.", target_names=True)]
    format: Annotated[str, Option(
        "--format", choices=validate.TOKEN_FORMATS,
        help="bare (the token), header (Authorization: Bearer …) or json.")] = "bare"
    min_ttl: Annotated[float, Option(
        "--min-ttl", metavar="SECONDS",
        help="Renew when fewer seconds than this are left.")] = 60.0
    no_cache: Annotated[bool, Option(
        "--no-cache", help="Ask for a new token; do not use the cache.")] = False
    # None: the target's own timeout (else 10 s) and CA bundle.
    timeout: Annotated[float | None, TIMEOUT] = None
    ca_bundle: Annotated[Path | None, CA_BUNDLE] = None
