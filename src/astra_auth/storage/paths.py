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


# The layout of the parsed copy (ConfigStore); a copy of another format is
# not read.
CACHE_FORMAT = 5


def cache_header(digest: str) -> bytes:
    """The start of the parsed copy's first line: its format and the digest of
    the file it was made from; the line ends with the summary's size."""
    return f"astra-auth parsed copy {CACHE_FORMAT} {digest}".encode("ascii")


def cached_summary(config_path: Path, digest: str) -> bytes | None:
    """The summary lines of the parsed copy made from the config file whose
    bytes have `digest`, read without the rest of the copy (ConfigStore);
    None when there is no such copy."""
    try:
        with open(cache_path(config_path), "rb") as handle:
            prefix, _, size = handle.readline(256).rstrip(b"\n").rpartition(b" ")
            if prefix != cache_header(digest) or not size.isdigit():
                return None
            block = handle.read(int(size))
    except OSError:
        return None
    return block if len(block) == int(size) else None


def digest(raw: bytes) -> str:
    """A cryptographic hash of the config file's bytes, naming the copy it matches.

    BLAKE2b, so that no other content can be made to match (a CRC-32 could be
    forged from known content, issue 15 finding 7).  `_blake2` is the C module
    behind hashlib.blake2b; importing it directly costs ~0.2 ms where hashlib,
    which loads OpenSSL, costs ~2 ms on every start.
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - another Python implementation
        from hashlib import blake2b

    return blake2b(raw, digest_size=32).hexdigest()
