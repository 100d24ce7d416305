"""Everything with a side effect, built once in `main` and replaced in tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from astra_auth import validate
from astra_auth.config import ConfigStore, default_path
from astra_auth.iostreams import IOStreams
from astra_auth.prompter import Prompter, RichPrompter
from astra_auth.secretstore import KeyringStore, SecretStore


@dataclass
class Deps:
    io: IOStreams
    config_path: Path
    secrets: SecretStore
    prompter: Prompter
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], float] = time.time
    # Looks the token URL's host up and says when a scanner could not reach it.
    address_warning: Callable[[str], str | None] = validate.private_address_warning

    @classmethod
    def system(cls, config_path: Path | None) -> Deps:
        io = IOStreams.system()
        environ = dict(os.environ)
        return cls(
            io=io,
            config_path=config_path or default_path(environ),
            secrets=KeyringStore(),
            prompter=RichPrompter(io),
            environ=environ,
        )

    @property
    def config(self) -> ConfigStore:
        return ConfigStore(self.config_path)
