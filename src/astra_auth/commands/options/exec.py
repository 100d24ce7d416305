"""`astra-auth exec`'s options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from astra_auth.core.cli_params import CA_BUNDLE, TIMEOUT, Argument, Option


@dataclass
class ExecOptions:
    name: Annotated[str, Argument(help="Target.", target_names=True)]
    command: Annotated[list[str], Argument(
        help="The command and its arguments, after `--`.",
        metavar="-- COMMAND [ARG]...")] = field(default_factory=list)
    min_ttl: Annotated[float, Option(
        "--min-ttl", metavar="SECONDS",
        help="Renew first when fewer seconds than this are left.")] = 60.0
    # None: the target's own timeout (else 10 s) and CA bundle.
    timeout: Annotated[float | None, TIMEOUT] = None
    ca_bundle: Annotated[Path | None, CA_BUNDLE] = None
