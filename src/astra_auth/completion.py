"""Shell-completion helpers: as little work as possible, nothing heavy imported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def target_names(ctx: Any) -> list[str]:
    """Names of the targets in the config file the command line points at."""
    import tomllib

    from astra_auth.config import default_path

    root = ctx.find_root() if ctx is not None else None
    path = root.params.get("config") if root is not None else None
    path = Path(path) if path else default_path(os.environ)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    targets = data.get("targets")
    return sorted(targets) if isinstance(targets, dict) else []
