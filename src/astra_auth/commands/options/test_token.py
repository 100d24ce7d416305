"""`astra-auth test-token`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from astra_auth.core.cli_params import CA_BUNDLE, TIMEOUT, Argument, Option


@dataclass
class TestTokenOptions:
    name: Annotated[str | None, Argument(help="Target to test.", target_names=True)] = None
    all: Annotated[bool, Option("--all", help="Test every target.")] = False
    json: Annotated[bool, Option("--json", help="Print the result as JSON.")] = False
    verbose: Annotated[bool, Option(
        "--verbose", "-v", help="Show the request and response, masked.")] = False
    # None: the target's own timeout (else 10 s) and CA bundle.
    timeout: Annotated[float | None, TIMEOUT] = None
    ca_bundle: Annotated[Path | None, CA_BUNDLE] = None
    # The API check: a path under the target's url or a full URL; or none at all.
    probe: Annotated[str | None, Option(
        "--probe", metavar="PATH_OR_URL",
        help="Check the credential with a GET to this path under the target's URL (or "
        "this URL on its origin) instead of the URL itself.")] = None
    no_probe: Annotated[bool, Option(
        "--no-probe", help="Do not check the credential against the API.")] = False
