"""Everything with a side effect, built once in `main` and replaced in tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astra_auth.net.resolve import private_address_warning
from astra_auth.storage.config import ConfigStore, default_path
from astra_auth.ui.iostreams import IOStreams

if TYPE_CHECKING:
    import httpx

    from astra_auth.net.transport import Deadline
    from astra_auth.oauth.client_auth import ClientKey
    from astra_auth.oauth.discovery import Metadata
    from astra_auth.storage.secretstore import SecretStore
    from astra_auth.ui.prompter import Prompter

# Seconds per request of the best-effort metadata lookup behind a token URL (it
# only sharpens hints and defaults) and of discovery; each whole lookup is
# bounded by its deadline too.
METADATA_TIMEOUT = 3.0
DISCOVERY_TIMEOUT = 10.0


class _TerminalPrompter:
    """The rich prompter, built on first use: most commands never prompt."""

    def __init__(self, io: IOStreams) -> None:
        self._io = io
        self._real: Prompter | None = None

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            from astra_auth.ui.prompter import RichPrompter

            self._real = RichPrompter(self._io)
        return getattr(self._real, name)


class _SystemKeyring:
    """The OS keyring, built on first use.

    Most commands never open the keyring; those that do meet a bad
    ASTRA_AUTH_KEYRING_TIMEOUT there, as a usage error of their own.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._real: SecretStore | None = None

    def _store(self) -> SecretStore:
        if self._real is None:
            from astra_auth.storage.secretstore import KeyringStore, keyring_timeout

            self._real = KeyringStore(keyring_timeout(self._environ))
        return self._real

    def get(self, key: str) -> str | None:
        return self._store().get(key)

    def set(self, key: str, value: str) -> None:
        self._store().set(key, value)

    def delete(self, key: str) -> None:
        self._store().delete(key)


class Deps:
    """The side effects every command uses.  A plain class rather than a
    dataclass: generating one's methods cost ~0.3 ms on every start."""

    def __init__(
        self,
        io: IOStreams,
        config_path: Path,
        secrets: SecretStore,
        prompter: Prompter,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        # Looks the token URL's host up and says when a scanner could not reach it.
        address_warning: Callable[[str], str | None] = private_address_warning,
        monotonic: Callable[[], float] = time.monotonic,
        # Best-effort discovery metadata for (token URL, extra CA bundle), None when
        # none is found; replaced in tests that need no network.
        metadata_lookup: Callable[[str, Path | None], Metadata | None] | None = None,
        # The user named the config file (--config, ASTRA_AUTH_CONFIG): unsafe
        # ownership or permissions are then an error rather than a warning.
        config_explicit: bool = False,
        # `astra-auth login`: how to wait between device-code polls, and
        # how to open the authorization URL in a browser (True when one opened).
        # Tests replace both: no real sleep, no real browser.
        sleep: Callable[[float], None] = time.sleep,
        open_browser: Callable[[str], bool] | None = None,
    ) -> None:
        self.io = io
        self.config_path = config_path
        self.secrets = secrets
        self.prompter = prompter
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.clock = clock
        self.address_warning = address_warning
        self.monotonic = monotonic
        self.metadata_lookup = metadata_lookup
        self.config_explicit = config_explicit
        self.sleep = sleep
        self.open_browser = open_browser
        self._store: ConfigStore | None = None

    @classmethod
    def system(cls, config_path: Path | None) -> Deps:
        io = IOStreams.system()
        environ = dict(os.environ)
        return cls(
            io=io,
            config_path=config_path or default_path(environ),
            secrets=_SystemKeyring(environ),
            prompter=_TerminalPrompter(io),
            environ=environ,
            config_explicit=config_path is not None or bool(environ.get("ASTRA_AUTH_CONFIG")),
        )

    def browse(self, url: str) -> bool:
        """Open `url` in the user's browser; False where there is none."""
        if self.open_browser is not None:
            return self.open_browser(url)
        import sys
        import webbrowser

        if (sys.platform.startswith("linux") and not self.environ.get("DISPLAY")
                and not self.environ.get("WAYLAND_DISPLAY")):
            # No graphical session (ssh, a container): webbrowser would start a
            # text browser inside this terminal.  Print the URL instead.
            return False
        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False

    @property
    def config(self) -> ConfigStore:
        # One store per path, so that its ownership warning is given once.
        if self._store is None or self._store.path != self.config_path:
            self._store = ConfigStore(self.config_path, explicit=self.config_explicit,
                                      warn=self.io.warn)
        return self._store

    def http_client(self, timeout: float, ca_bundle: Path | None,
                    identity: ClientKey | None = None) -> httpx.Client:
        """A client for one exchange; `identity`: the client certificate it
        presents (tls_client_auth, certificate-bound tokens)."""
        from astra_auth.net.transport import make_client

        return make_client(timeout, ca_bundle, self.environ, identity=identity)

    def metadata_for(self, token_url: str, ca_bundle: Path | None = None,
                     deadline: Deadline | None = None) -> Metadata | None:
        """The provider's discovery metadata for `token_url`, or None (best effort),
        all of it by `deadline` (default: a few seconds)."""
        if self.metadata_lookup is not None:
            return self.metadata_lookup(token_url, ca_bundle)
        from astra_auth.oauth.discovery import for_token_url

        return for_token_url(token_url, lambda: self.http_client(METADATA_TIMEOUT, ca_bundle),
                             deadline=deadline)

    def discover(self, issuer: str, ca_bundle: Path | None = None,
                 deadline: Deadline | None = None) -> Metadata:
        """The issuer's metadata (raises DiscoveryError), all of it by `deadline`."""
        from astra_auth.oauth.discovery import discover

        return discover(issuer, lambda: self.http_client(DISCOVERY_TIMEOUT, ca_bundle),
                        deadline)
