"""When each target's cached token expires: beside the config file, never a token.

`targets list` and `targets show` read this instead of the keyring, so they
stay fast and never prompt a keyring to unlock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from astra_auth.storage.config import atomic_write
from astra_auth.storage.paths import beside


def _path(config_path: Path) -> Path:
    # `.config.toml.tokens.json`; a `.tokens.json` of older versions, shared by
    # every config file in the folder, is no longer read (it held only expiries).
    return beside(config_path, "tokens.json")


def read_state(config_path: Path) -> dict[str, float]:
    try:
        text = _path(config_path).read_text()
    except (OSError, ValueError):  # none yet (no token was ever cached), or not text
        return {}
    import json  # ~1 ms at start; not needed when there is no file

    try:
        data = json.loads(text)
        return {k: float(v) for k, v in data.items()
                if isinstance(v, int | float) and not isinstance(v, bool)}
    except (OSError, ValueError, AttributeError):
        return {}


def write_state(config_path: Path, name: str, expires_at: float | None) -> None:
    """Record (or, with None, forget) a target's cached-token expiry; best effort."""
    state = read_state(config_path)
    if expires_at is None:
        if name not in state:
            return
        state.pop(name)
    else:
        state[name] = expires_at
    if not config_path.parent.is_dir():
        return
    import json

    with contextlib.suppress(OSError):
        atomic_write(_path(config_path), json.dumps(state))


def describe(expires_at: float | None, now: float) -> str:
    if expires_at is None:
        return "none"
    if expires_at <= now:
        return "expired"
    when = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    return f"valid until {when:%Y-%m-%d %H:%M:%S} UTC"
