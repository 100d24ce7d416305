"""Where the config file lives; imports nothing heavy.

Shell completion finds the config file through here on every Tab press.
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


def beside(config_path: Path, what: str) -> Path:
    """A file the tool keeps beside the config (a cache, a lock), named after it:
    `.config.toml.tokens.json` beside `config.toml`, so that two config files in
    one folder never share one."""
    return config_path.with_name(f".{config_path.name}.{what}")
