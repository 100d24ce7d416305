"""Where the config file and its parsed copy live; imports nothing heavy.

Shell completion reads target names through here on every Tab press.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP = "astra-auth"


def default_path(environ: Mapping[str, str]) -> Path:
    """`ASTRA_AUTH_CONFIG`, else XDG on Linux, else the platform's config folder."""
    if environ.get("ASTRA_AUTH_CONFIG"):
        return Path(environ["ASTRA_AUTH_CONFIG"]).expanduser()
    if sys.platform.startswith("linux") or environ.get("XDG_CONFIG_HOME"):
        base = environ.get("XDG_CONFIG_HOME") or os.path.join(
            environ.get("HOME") or os.path.expanduser("~"), ".config"
        )
        return Path(base) / APP / "config.toml"
    import typer

    return Path(typer.get_app_dir(APP)) / "config.toml"


def cache_path(config_path: Path) -> Path:
    """The parsed-and-validated copy of the config file (see ConfigStore.load)."""
    return config_path.with_name(f".{config_path.name}.cache.json")


def digest(raw: bytes) -> str:
    """A checksum of the config file's bytes, naming the copy it matches.

    CRC-32 and length: enough to notice any edit (the file is the user's own,
    in a 0700 folder), and zlib is already loaded where hashlib costs ~2 ms.
    """
    import zlib

    return f"{zlib.crc32(raw):08x}-{len(raw)}"
