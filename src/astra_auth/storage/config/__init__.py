"""The config file: its model (`model`), strict parsing (`parse`), and locked
atomic saves (`store`).

Layout and guarantees are those of "Files and secrets" in the README: TOML with
`version = 1`, no secret ever, 0600 inside a 0700 folder, atomic replace.  A
file that does not parse or validate is reported with its path and never
rewritten.
"""

from astra_auth.storage.config.model import (
    ApiKey,
    AwsSigV4,
    Basic,
    Bearer,
    Config,
    Digest,
    HttpSignature,
    Jwt,
    OAuth2,
    Target,
)
from astra_auth.storage.config.parse import VERSION
from astra_auth.storage.config.store import (
    ConfigStore,
    atomic_write,
    file_lock,
    ownership_problems,
)
from astra_auth.storage.paths import APP, default_path

__all__ = ["APP", "VERSION", "ApiKey", "AwsSigV4", "Basic", "Bearer", "Config", "ConfigStore",
           "Digest", "HttpSignature", "Jwt", "OAuth2", "Target", "atomic_write", "default_path",
           "file_lock", "ownership_problems"]
