"""Secrets in the OS keyring, behind a small interface with timeouts.

Service name and entry names are promised in docs/files-and-secrets.md: service `astra-auth`, entries
`<target>:client_secret`, `<target>:password` and `<target>:token`.  keyring is
imported on first use only, so commands that need no secret start fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

from astra_auth.core.errors import AstraError, KeyringUnavailable, UsageError
from astra_auth.core.threads import start_worker

if TYPE_CHECKING:  # keyring itself is imported on first use
    from keyring.backend import KeyringBackend

    from astra_auth.storage.config import Target

SERVICE = "astra-auth"
CLIENT_SECRET_ENV = "ASTRA_AUTH_CLIENT_SECRET"
PASSWORD_ENV = "ASTRA_AUTH_PASSWORD"
DEFAULT_TIMEOUT = 10.0
TIMEOUT_ENV = "ASTRA_AUTH_KEYRING_TIMEOUT"

T = TypeVar("T")


ENV_NAMES = {"client_secret": CLIENT_SECRET_ENV, "password": PASSWORD_ENV}
# Every secret kind docs/files-and-secrets.md names, each with its keyring entry and variables.
KINDS = ("client_secret", "password", "bearer_token", "api_key", "signing_key", "private_key",
         "secret_access_key", "session_token", "dpop_key", "refresh_token", "token")


def keyring_timeout(environ: Mapping[str, str]) -> float:
    """Seconds to wait for the keyring: ASTRA_AUTH_KEYRING_TIMEOUT, else 10."""
    text = environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 600:  # also false for nan
        raise UsageError(f"{TIMEOUT_ENV}={text[:40]!r} is not a number of seconds between 0 "
                         "and 600", hints=[f"Set it to e.g. {TIMEOUT_ENV}=10, or unset it."])
    return seconds


def entry(target: str, kind: str) -> str:
    """The keyring "username" of one secret: `<target>:client_secret` and so on."""
    return f"{target}:{kind}"


def variable_prefix(target: str) -> str:
    """`ASTRA_AUTH_<TARGET>_`: the start of every per-target variable's name."""
    return f"ASTRA_AUTH_{re.sub(r'[^A-Z0-9]', '_', target.upper())}_"


def env_names(target: str, kind: str) -> tuple[str, str]:
    """The variables that override a stored secret, the per-target one first:
    `ASTRA_AUTH_<TARGET>_<KIND>`, then `ASTRA_AUTH_<KIND>` (docs/files-and-secrets.md#variables)."""
    return f"{variable_prefix(target)}{kind.upper()}", f"ASTRA_AUTH_{kind.upper()}"


def name_clash(name: str, existing: Iterable[str]) -> UsageError | None:
    """The error for a new target `name` whose variables another target's name
    already reads (`payments-api` and `Payments.API`), else None."""
    prefix = variable_prefix(name)
    other = next((n for n in sorted(existing) if n != name and variable_prefix(n) == prefix),
                 None)
    if other is None:
        return None
    from astra_auth.text.shellcmd import command

    return UsageError(
        f"target name {name!r} reads the same variables ({prefix}*) as the existing target "
        f"{other!r}; two targets cannot share them",
        hints=["Change the existing target with: " + command("configure", other),
               "Or choose a name that differs in more than case and punctuation."])


def env_source(target: str, kind: str, environ: Mapping[str, str]) -> str | None:
    """The name of the variable that supplies this secret now, if any."""
    return next((name for name in env_names(target, kind) if environ.get(name)), None)


def sources(target: Target, environ: Mapping[str, str]) -> dict[str, str]:
    """Where each secret the target uses comes from at run time: the variable's
    name (the environment wins, docs/files-and-secrets.md#variables), else "keyring", or "missing" for an
    env-mode target whose variables are unset.  Never a value."""
    return {kind: env_source(target.name, kind, environ)
            or ("keyring" if target.secrets_mode == "keyring" else "missing")
            for kind in target.secret_kinds}


def locate(
    target: str, kind: str, mode: str, environ: Mapping[str, str], store: SecretStore
) -> tuple[str, str | None]:
    """Where a secret comes from at run time, and its value: ("env", value),
    ("stored", value) or ("missing", None).

    The environment wins over the keyring (docs/files-and-secrets.md#variables), so a pipeline can
    override a stored secret; with `--secrets env` the keyring is not asked.
    May raise KeyringUnavailable.
    """
    variable = env_source(target, kind, environ)
    if variable is not None:
        return "env", environ[variable]
    if mode == "env":
        return "missing", None
    stored = store.get(entry(target, kind))
    return ("stored", stored) if stored is not None else ("missing", None)


class SecretStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove the entry; no error when there is none."""


class KeyringStore:
    """The OS keyring through the `keyring` package.

    Every call runs in a worker thread bounded by `timeout`: a Secret Service
    that never answers (a locked collection waiting for a prompt nobody sees)
    must not hang the CLI.  Backends that would keep secrets in a plain file
    are refused rather than used silently.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._checked = False
        # After a call timed out, later calls fail at once instead of waiting
        # again for a Secret Service that is known not to answer.
        self._hung: KeyringUnavailable | None = None

    def get(self, key: str) -> str | None:
        return self._call(lambda kr: kr.get_password(SERVICE, key))

    def set(self, key: str, value: str) -> None:
        self._call(lambda kr: kr.set_password(SERVICE, key, value))

    def delete(self, key: str) -> None:
        def remove(kr: KeyringBackend) -> None:
            import keyring.errors

            try:
                kr.delete_password(SERVICE, key)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored under that name

        self._call(remove)

    def _call(self, operation: Callable[[KeyringBackend], T]) -> T:
        if self._hung is not None:
            raise self._hung
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                import keyring

                backend = keyring.get_keyring()
                if not self._checked:
                    _check_backend(backend)
                outcome["value"] = operation(backend)
            except BaseException as exc:  # handed to the calling thread below
                outcome["error"] = exc

        thread = start_worker(work, "astra-auth-keyring")
        thread.join(self.timeout)
        if thread.is_alive():
            self._hung = KeyringUnavailable(
                f"it did not answer within {self.timeout:g} seconds (a locked collection "
                "waiting for an unlock prompt, or a Secret Service that hangs)"
            )
            raise self._hung
        if "error" in outcome:
            raise _translate(outcome["error"])  # type: ignore[arg-type]
        self._checked = True
        return outcome["value"]  # type: ignore[return-value]


def _check_backend(backend: object) -> None:
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
        raise KeyringUnavailable(
            "no keyring backend is available (no Secret Service on the session bus, "
            "no macOS Keychain, no Windows Credential Locker)"
        )
    if module.startswith("keyrings.alt") or "plaintext" in name.lower():
        raise KeyringUnavailable(
            f"the selected backend {module}.{name} keeps secrets in a plain file, "
            "which astra-auth refuses"
        )


def _translate(exc: BaseException) -> BaseException:
    if isinstance(exc, KeyringUnavailable):
        return exc
    import keyring.errors

    if isinstance(exc, keyring.errors.KeyringLocked):
        return KeyringUnavailable("the keyring is locked")
    if isinstance(exc, keyring.errors.NoKeyringError):
        return KeyringUnavailable("no keyring backend is available")
    if isinstance(exc, keyring.errors.KeyringError | OSError | RuntimeError):
        # Backend messages name the collection or D-Bus error, never the secret.
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return KeyringUnavailable(f"{type(exc).__name__}: {detail[:200]}")
    try:
        import secretstorage.exceptions

        if isinstance(exc, secretstorage.exceptions.SecretStorageException):
            return KeyringUnavailable(f"Secret Service error: {type(exc).__name__}")
    except ImportError:
        pass
    try:
        import jeepney.wrappers

        if isinstance(exc, jeepney.wrappers.DBusErrorResponse):
            return KeyringUnavailable(f"D-Bus error: {exc.name}")
    except ImportError:
        pass
    return exc


def remove_entries(store: SecretStore, keys: list[str], *, strict: bool) -> None:
    """Delete keyring entries.

    Not strict: a keyring that is not usable (the reason to choose
    `--secrets env`) cannot hold them anyway, so stop quietly at the first error.
    """
    for key in keys:
        try:
            store.delete(key)
        except AstraError:
            if strict:
                raise
            return
