"""`astra-auth doctor`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from astra_auth.core.cli_params import Option


@dataclass
class DoctorOptions:
    json: Annotated[bool, Option("--json", help="Print the checks as JSON.")] = False
