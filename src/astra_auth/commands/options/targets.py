"""`astra-auth targets list|add|show|remove`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from astra_auth.core.cli_params import Argument, Option


@dataclass
class ListOptions:
    json: Annotated[bool, Option("--json", help="Print a JSON list.")] = False


@dataclass
class AddOptions:
    name: Annotated[str, Argument(help="Name for the new target.")]
    url: Annotated[str | None, Option("--url", help="URL of the API under test.",
                                      metavar="URL")] = None


@dataclass
class ShowOptions:
    name: Annotated[str, Argument(target_names=True)]
    json: Annotated[bool, Option("--json", help="Print a JSON object.")] = False


@dataclass
class RemoveOptions:
    name: Annotated[str, Argument(target_names=True)]
    yes: Annotated[bool, Option("--yes", "-y", help="Do not ask for confirmation.")] = False
