"""`astra-auth login`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from astra_auth.core.cli_params import CA_BUNDLE, TIMEOUT, Argument, Option


@dataclass
class LoginOptions:
    name: Annotated[str, Argument(help="Target.", target_names=True)]
    port: Annotated[int | None, Option(
        "--port", help="authorization_code: the loopback port the client registration needs "
        "(default: any free port).")] = None
    # None: the target's own timeout (else 10 s) and CA bundle.
    timeout: Annotated[float | None, TIMEOUT] = None
    ca_bundle: Annotated[Path | None, CA_BUNDLE] = None
