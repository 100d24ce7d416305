"""The config file: its model, strict parsing, and locked atomic saves.

Layout and guarantees are the contract's ("Files and secrets"): TOML with
`version = 1`, no secret ever, 0600 inside a 0700 folder, atomic replace.  A file
that does not parse or validate is reported with its path and never rewritten.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from astra_auth import __version__
from astra_auth.core import validate
from astra_auth.core.errors import ConfigError
from astra_auth.storage.paths import APP, default_path

__all__ = ["APP", "ApiKey", "Basic", "Bearer", "Config", "ConfigStore", "Jwt", "OAuth2", "Target",
           "default_path"]

VERSION = 1

# Keys a user might add by hand that must never live in a plain file.
_SECRET_KEYS = {"client_secret", "password", "access_token", "refresh_token", "token", "secret",
                "api_key", "bearer_token", "signing_key", "private_key", "key"}


@dataclass(slots=True)
class OAuth2:
    grant_type: str
    token_url: str
    client_id: str
    client_auth: str = "basic"
    scope: str | None = None
    audience: str | None = None
    username: str | None = None
    secrets: str = "keyring"
    # Sent as they are in the token request; never replace the grant's own fields.
    extra_params: dict[str, str] = field(default_factory=dict)
    # private_key_jwt (RFC 7523 §2.2): the assertion's algorithm and audience
    # (None: the provider's default, else RS256 and the token URL).
    assertion_alg: str | None = None
    assertion_audience: str | None = None
    # The public certificate (a path): private_key_jwt's x5t#S256, or the
    # certificate tls_client_auth presents.
    certificate: str | None = None
    # RFC 8705 §3: the provider binds tokens to the client certificate, so the
    # API wants the same certificate: the proxy, auth_for and the API check
    # present it too.
    certificate_bound: bool = False
    authorization_url: str | None = None  # authorization_code
    device_authorization_url: str | None = None  # device_code

    @property
    def secret_kinds(self) -> list[str]:
        """The keyring kinds this client reads at run time: a client secret, a
        private key, or none (a public client); the password grant's password."""
        kinds = {"basic": ["client_secret"], "post": ["client_secret"],
                 "private_key_jwt": ["private_key"],
                 "tls_client_auth": ["private_key"]}.get(self.client_auth, [])
        if self.certificate_bound and "private_key" not in kinds:
            kinds = [*kinds, "private_key"]  # the certificate's key, for mutual TLS
        return kinds + (["password"] if self.grant_type == "password" else [])

    @property
    def needs_login(self) -> bool:
        """The grant's one human step is `astra-auth login`; renewal then uses
        the refresh token in `<target>:refresh_token`."""
        return self.grant_type in validate.LOGIN_GRANTS


@dataclass(slots=True)
class Basic:
    username: str
    secrets: str = "keyring"


@dataclass(slots=True)
class Bearer:
    secrets: str = "keyring"


@dataclass(slots=True)
class ApiKey:
    name: str
    location: str = "header"
    secrets: str = "keyring"


@dataclass(slots=True)
class Jwt:
    algorithm: str
    claims: dict[str, Any] = field(default_factory=dict)
    lifetime: int = 300
    header_name: str = "Authorization"
    prefix: str = "Bearer"
    secrets: str = "keyring"


@dataclass(slots=True)
class Target:
    name: str
    url: str | None = None
    auth_type: str | None = None
    oauth2: OAuth2 | None = None
    basic: Basic | None = None
    bearer: Bearer | None = None
    api_key: ApiKey | None = None
    jwt: Jwt | None = None
    # The token URL's host, when configure warned that it resolves to a private,
    # loopback or link-local address: said once there, then only in targets
    # show and test-token's JSON warnings.
    private_host_ok: str | None = None
    # Network settings for every command (the flags override them).
    ca_bundle: str | None = None
    timeout: float | None = None

    @property
    def settings(self) -> Any:
        """The sub-table of the target's auth type (None when not configured)."""
        return getattr(self, self.auth_type) if self.auth_type else None

    @property
    def secrets_mode(self) -> str:
        """"keyring" or "env": where the target's secrets are kept."""
        settings = self.settings
        return getattr(settings, "secrets", "keyring") if settings is not None else "keyring"

    @property
    def secret_kinds(self) -> list[str]:
        """The keyring kinds of the secrets the target uses at run time."""
        if self.oauth2 is not None:
            return self.oauth2.secret_kinds
        return {"basic": ["password"], "bearer": ["bearer_token"], "api_key": ["api_key"],
                "jwt": ["signing_key"]}.get(self.auth_type or "", [])


@dataclass(slots=True)
class Config:
    targets: dict[str, Target] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Parsing and serialising


def parse(data: Mapping[str, Any], path: Path) -> Config:
    def fail(where: str, problem: str) -> ConfigError:
        return ConfigError(
            f"{path}: {where}: {problem}",
            hints=[
                "Fix or remove the file by hand; astra-auth will not overwrite it. "
                "`astra-auth --config OTHER.toml …` uses another file meanwhile."
            ],
        )

    version = data.get("version")
    if version is None:
        raise fail("version", "missing (this file was not written by astra-auth)")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail("version", "must be a whole number")
    if version != VERSION:
        raise fail(
            "version",
            f"{version} is not supported by astra-auth {__version__}, which reads "
            f"version {VERSION}; upgrade astra-auth to use this file",
        )
    _no_unknown(data, frozenset({"version", "targets"}), "top level", fail)
    targets_data = data.get("targets", {})
    if not isinstance(targets_data, dict):
        raise fail("targets", "must be a table")
    config = Config()
    targets = config.targets
    # Each optional setting is checked only when present, always in the same
    # order, so that one file always gets the same first problem.
    for name, entry in targets_data.items():
        where = f"targets.{name}"
        try:
            validate.target_name(name)
        except ValueError as exc:
            raise fail(where, str(exc)) from None
        if not isinstance(entry, dict):
            raise fail(where, "must be a table")
        _no_unknown(entry, _TARGET_KEYS, where, fail)
        target = Target(name)
        if "url" in entry:
            target.url = _opt_str(entry, "url", where, fail, validate.api_url)
        if "auth_type" in entry:
            target.auth_type = _opt_str(entry, "auth_type", where, fail, _auth_type)
        if "private_host_ok" in entry:
            target.private_host_ok = _opt_str(entry, "private_host_ok", where, fail, _host)
        if "ca_bundle" in entry:
            target.ca_bundle = _opt_str(entry, "ca_bundle", where, fail, _ca_bundle)
        if "timeout" in entry:
            target.timeout = _opt_timeout(entry, where, fail)
        tables = [key for key in _TYPE_PARSERS if key in entry]
        for key in tables:
            if key != target.auth_type:
                raise fail(f"{where}.{key}", f'a [{key}] table, but auth_type is '
                           f'{target.auth_type!r}' if target.auth_type else
                           f'has a [{key}] table but no auth_type = "{key}"')
            if not isinstance(entry[key], dict):
                raise fail(f"{where}.{key}", "must be a table")
            setattr(target, key, _TYPE_PARSERS[key](entry[key], f"{where}.{key}", fail))
        if target.auth_type is not None and target.auth_type not in tables:
            raise fail(where, f'auth_type is "{target.auth_type}" but the '
                       f'[{target.auth_type}] table is missing')
        targets[name] = target
    return config


# The settings each table may hold.
_TARGET_KEYS = frozenset({"url", "auth_type", "oauth2", "basic", "bearer", "api_key", "jwt",
                          "private_host_ok", "ca_bundle", "timeout"})
_OAUTH2_KEYS = frozenset({"grant_type", "token_url", "client_id", "client_auth", "scope",
                          "audience", "username", "secrets",
                          # issue 12
                          "extra_params", "assertion_alg", "assertion_audience", "certificate",
                          "certificate_bound",
                          # issue 13
                          "authorization_url", "device_authorization_url"})


def _host(v: str) -> str:
    return validate.plain_value(v, "host name", 253)


def _ca_bundle(v: str) -> str:
    return validate.file_path(v, "CA bundle path")


def _auth_type(v: str) -> str:
    return validate.choice(v, validate.AUTH_TYPES)


def _client_id(v: str) -> str:
    return validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID)


def _client_auth(v: str) -> str:
    return validate.choice(v, validate.CLIENT_AUTH_METHODS)


def _scope(v: str) -> str:
    return validate.plain_value(v, "scope", validate.MAX_SCOPE)


def _audience(v: str) -> str:
    return validate.plain_value(v, "audience", validate.MAX_URL)


def _username(v: str) -> str:
    return validate.plain_value(v, "username", validate.MAX_USERNAME)


def _secret_mode(v: str) -> str:
    return validate.choice(v, validate.SECRET_MODES)


# Each setting of [oauth2] and its check, in the order they are checked.
_OAUTH2_CHECKS: dict[str, Callable[[str], str]] = {
    "grant_type": validate.grant_type,
    "token_url": validate.token_url,
    "client_id": _client_id,
    "client_auth": _client_auth,
    "scope": _scope,
    "audience": _audience,
    "username": _username,
    "secrets": _secret_mode,
    # --- issue 12 ---
    "assertion_alg": lambda v: validate.choice(v, validate.ASSERTION_ALGORITHMS),
    "assertion_audience": _audience,
    "certificate": lambda v: validate.file_path(v, "certificate path"),
    "authorization_url": validate.token_url,
    "device_authorization_url": validate.token_url,
}
_OAUTH2_REQUIRED = ("grant_type", "token_url", "client_id")


def _parse_oauth2(data: dict[str, Any], where: str, fail: Any) -> OAuth2:
    _no_unknown(data, _OAUTH2_KEYS, where, fail)
    # Each value is its setting's, by name; the others keep their defaults
    # (client_auth "basic", secrets "keyring", extra_params {}).
    settings = OAuth2(**_oauth2_values(data, where, fail))  # type: ignore[arg-type]
    if "extra_params" in data:
        settings.extra_params = _parse_extra_params(data["extra_params"], where, fail)
    bound = data.get("certificate_bound", False)
    if not isinstance(bound, bool):
        raise fail(f"{where}.certificate_bound", "must be true or false")
    settings.certificate_bound = bound
    if settings.certificate_bound and not settings.certificate:
        raise fail(f"{where}.certificate", "missing (certificate_bound presents it to the API)")
    if settings.client_auth == "tls_client_auth" and not settings.certificate:
        raise fail(f"{where}.certificate", "missing (tls_client_auth presents a certificate)")
    if settings.grant_type == "password" and not settings.username:
        raise fail(f"{where}.username", "missing (the password grant needs a username)")
    if settings.grant_type != "password" and settings.username:
        raise fail(f"{where}.username", "only the password grant has a username")
    for key, grant in _LOGIN_URLS.items():
        if settings.grant_type == grant and not getattr(settings, key):
            raise fail(f"{where}.{key}", f"missing (the {grant} grant needs it)")
        if settings.grant_type != grant and getattr(settings, key):
            raise fail(f"{where}.{key}", f"only the {grant} grant has one")
    return settings


def _oauth2_values(data: dict[str, Any], where: str, fail: Any) -> dict[str, str]:
    """Every setting of [oauth2] that has a check, checked in the order of
    _OAUTH2_CHECKS: the first problem is raised, so one file always gets the
    same message."""
    values: dict[str, str] = {}
    for key, check in _OAUTH2_CHECKS.items():
        if key not in data:
            if key in _OAUTH2_REQUIRED:
                raise fail(f"{where}.{key}", "missing")
            continue
        value = data[key]
        if not isinstance(value, str):
            raise fail(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise fail(f"{where}.{key}", str(exc)) from None
    return values


# --- issue 12 ---


def _parse_extra_params(data: Any, where: str, fail: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise fail(f"{where}.extra_params", "must be a table of NAME = \"VALUE\"")
    params: dict[str, str] = {}
    for name, value in data.items():
        if not isinstance(value, str):
            raise fail(f"{where}.extra_params.{name}", "must be a string")
        try:
            key, params_value = validate.extra_param(name, value)
        except ValueError as exc:
            raise fail(f"{where}.extra_params", str(exc)) from None
        params[key] = params_value
    return params


def _opt_timeout(data: Mapping[str, Any], where: str, fail: Any) -> float | None:
    if "timeout" not in data:
        return None
    value = data["timeout"]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise fail(f"{where}.timeout", "must be a number of seconds")
    try:
        return validate.timeout_seconds(value)
    except ValueError as exc:
        raise fail(f"{where}.timeout", str(exc)) from None


# --- end issue 12 ---
# Each login grant's own endpoint, by setting name.
_LOGIN_URLS = {"authorization_url": "authorization_code",
               "device_authorization_url": "device_code"}


def _secrets_mode(data: Mapping[str, Any], where: str, fail: Any) -> str:
    return _opt_str(
        data, "secrets", where, fail, lambda v: validate.choice(v, validate.SECRET_MODES)
    ) or "keyring"


def _parse_basic(data: dict[str, Any], where: str, fail: Any) -> Basic:
    _no_unknown(data, {"username", "secrets"}, where, fail)
    username = _opt_str(data, "username", where, fail,
                        lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME))
    if username is None:
        raise fail(f"{where}.username", "missing")
    if ":" in username:
        # RFC 7617 §2: the user-id cannot contain a colon.
        raise fail(f"{where}.username", "cannot contain ':' (RFC 7617)")
    return Basic(username=username, secrets=_secrets_mode(data, where, fail))


def _parse_bearer(data: dict[str, Any], where: str, fail: Any) -> Bearer:
    _no_unknown(data, {"secrets"}, where, fail)
    return Bearer(secrets=_secrets_mode(data, where, fail))


def _parse_api_key(data: dict[str, Any], where: str, fail: Any) -> ApiKey:
    _no_unknown(data, {"name", "location", "secrets"}, where, fail)
    name = _opt_str(data, "name", where, fail, validate.key_name)
    if name is None:
        raise fail(f"{where}.name", "missing")
    location = _opt_str(data, "location", where, fail,
                        lambda v: validate.choice(v, validate.KEY_LOCATIONS)) or "header"
    return ApiKey(name=name, location=location, secrets=_secrets_mode(data, where, fail))


def _parse_jwt(data: dict[str, Any], where: str, fail: Any) -> Jwt:
    _no_unknown(data, {"algorithm", "claims", "lifetime", "header_name", "prefix", "secrets"},
                where, fail)
    algorithm = _opt_str(data, "algorithm", where, fail,
                         lambda v: validate.choice(v, validate.JWT_ALGORITHMS))
    if algorithm is None:
        raise fail(f"{where}.algorithm", "missing")
    claims = data.get("claims", {})
    if not isinstance(claims, dict):
        raise fail(f"{where}.claims", "must be a table")
    problem = _claims_problem(claims, 0)
    if problem:
        raise fail(f"{where}.claims", problem)
    for key in validate.JWT_TIMED_CLAIMS:
        if key in claims:
            raise fail(f"{where}.claims.{key}", "is set for each token; leave it out")
    lifetime = data.get("lifetime", 300)
    if (not isinstance(lifetime, int) or isinstance(lifetime, bool)
            or not 1 <= lifetime <= validate.MAX_JWT_LIFETIME):
        raise fail(f"{where}.lifetime",
                   f"must be a whole number of seconds from 1 to {validate.MAX_JWT_LIFETIME}")
    header = _opt_str(data, "header_name", where, fail, validate.header_name) or "Authorization"
    prefix = _opt_str(data, "prefix", where, fail, validate.header_prefix)
    return Jwt(algorithm=algorithm, claims=claims, lifetime=lifetime, header_name=header,
               prefix="Bearer" if prefix is None else prefix,
               secrets=_secrets_mode(data, where, fail))


def _claims_problem(value: Any, depth: int) -> str | None:
    """Why `value` cannot be a JWT claims payload (JSON only, bounded depth), or None."""
    if depth > validate.MAX_CLAIMS_DEPTH:
        return f"nested deeper than {validate.MAX_CLAIMS_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _claims_problem(item, depth + 1)
            if problem:
                return f"{key}: {problem}"
        return None
    if isinstance(value, list):
        for item in value:
            problem = _claims_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, str | int | float | bool):
        return None
    return f"a {type(value).__name__} is not a JSON value (use a string)"


_TYPE_PARSERS: dict[str, Any] = {
    "oauth2": _parse_oauth2,
    "basic": _parse_basic,
    "bearer": _parse_bearer,
    "api_key": _parse_api_key,
    "jwt": _parse_jwt,
}


def _opt_str(data: Mapping[str, Any], key: str, where: str, fail: Any, check: Any) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise fail(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
    try:
        return check(value)
    except ValueError as exc:
        raise fail(f"{where}.{key}", str(exc)) from None


def _no_unknown(data: Mapping[str, Any], known: AbstractSet[str], where: str,
                fail: Any) -> None:
    for key in data:
        if key in _SECRET_KEYS and key not in known:
            # Never echo the value: it is a secret someone wrote into a plain file.
            raise fail(
                f"{where}.{key}",
                "secrets do not belong in the config file; delete this line and run "
                "`astra-auth configure` to keep the secret in the OS keyring",
            )
        if key not in known:
            raise fail(f"{where}.{key}", f"unknown setting (known: {', '.join(sorted(known))})")


def to_data(config: Config) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    for name in sorted(config.targets):
        target = config.targets[name]
        entry: dict[str, Any] = {}
        if target.url:
            entry["url"] = target.url
        if target.auth_type:
            entry["auth_type"] = target.auth_type
        if target.private_host_ok:
            entry["private_host_ok"] = target.private_host_ok
        if target.ca_bundle:
            entry["ca_bundle"] = target.ca_bundle
        if target.timeout is not None:
            entry["timeout"] = int(target.timeout) if target.timeout.is_integer() \
                else target.timeout
        if target.oauth2:
            o = target.oauth2
            oauth: dict[str, Any] = {
                "grant_type": o.grant_type,
                "token_url": o.token_url,
                "client_id": o.client_id,
                "client_auth": o.client_auth,
            }
            for key in ("scope", "audience", "username", "authorization_url",
                        "device_authorization_url"):
                if getattr(o, key):
                    oauth[key] = getattr(o, key)
            oauth["secrets"] = o.secrets
            # issue 12
            for key in ("assertion_alg", "assertion_audience", "certificate"):
                if getattr(o, key):
                    oauth[key] = getattr(o, key)
            if o.certificate_bound:
                oauth["certificate_bound"] = True
            if o.extra_params:
                oauth["extra_params"] = dict(o.extra_params)
            entry["oauth2"] = oauth
        for key in ("basic", "bearer", "api_key", "jwt"):
            settings = getattr(target, key)
            if settings is not None:
                entry[key] = {k: v for k, v in asdict(settings).items()
                              if not (key == "jwt" and k == "claims" and not v)}
        targets[name] = entry
    return {"version": VERSION, "targets": targets}


# ---------------------------------------------------------------------------
# Reading and writing the file


class ConfigStore:
    """The config file at `path`: read it, or change it under an exclusive lock.

    `explicit`: the user named the file (`--config`, ASTRA_AUTH_CONFIG); a file
    or folder that others can write is then an error, not a warning (`warn`).
    """

    def __init__(self, path: Path, *, explicit: bool = False,
                 warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.explicit = explicit
        self.warn = warn
        self._checked = False

    def load(self) -> Config:
        raw = self._read()
        if raw is None:
            return Config()
        return self._parse_file(raw)

    def _read(self) -> bytes | None:
        """The file's bytes (None when there is none), its ownership checked."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise ConfigError(f"{self.path}: is a folder, not a config file") from None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be read: {exc.strerror}") from None
        self._check_ownership()
        return raw

    def _parse_file(self, raw: bytes) -> Config:
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"{self.path}: is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message already says "(at line N, column M)".
            raise ConfigError(
                f"{self.path}: is not valid TOML: {exc}",
                hints=["Fix the file by hand; astra-auth will not overwrite it."],
            ) from None
        except RecursionError:
            # tomllib recurses into nested arrays and inline tables.
            raise ConfigError(
                f"{self.path}: is not a config file astra-auth can read: it nests "
                "arrays or tables thousands deep",
                hints=["Fix the file by hand; astra-auth will not overwrite it."],
            ) from None
        return parse(data, self.path)

    def _check_ownership(self) -> None:
        """Like ssh: a config file or folder that another user owns or can write
        could send the secrets elsewhere (a token URL of theirs)."""
        if self._checked:
            return
        self._checked = True
        problems = ownership_problems(self.path)
        if not problems:
            return
        if self.explicit:
            raise ConfigError(
                f"{self.path}: refusing to use it: {'; '.join(problems)}",
                hints=["Anyone who can change this file can send the secrets to a token "
                       "URL of their own. Fix the permissions: chmod go-w on the file and "
                       "its folder, and chown them to yourself."],
            )
        if self.warn is not None:
            self.warn(f"{self.path}: {'; '.join(problems)}; anyone who can change it can "
                      "send your secrets elsewhere (fix with chmod go-w)")

    @contextlib.contextmanager
    def edit(self) -> Iterator[Config]:
        """Yield the current config; save it when the block ends without error.

        The lock is held from before the read until after the replace, so that
        two processes changing different targets at once lose neither change.
        """
        self._refuse_symlink()
        self._ensure_folder()
        with self._locked():
            config = self.load()
            yield config
            self._write(config)

    def _refuse_symlink(self) -> None:
        """Saving replaces the file, which would silently replace a link with a
        file; writing through a link planted by someone else would create or
        overwrite a file where they chose.  So a link is refused, by name."""
        if not self.path.is_symlink():
            return
        from astra_auth.text.shellcmd import Placeholder, command

        target = os.path.realpath(self.path)
        raise ConfigError(
            f"{self.path}: is a symbolic link (to {target}); astra-auth does not save "
            "through links",
            hints=["Save to the file itself: " + command("--config", target, Placeholder("…")),
                   "Or replace the link with the file it points to."],
        )

    def _ensure_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ConfigError(f"{folder}: cannot create the folder: {exc.strerror}") from None
            # mkdir's mode is masked by the umask; the contract asks for 0700.
            os.chmod(folder, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(lock_path))
            except OSError as exc:
                raise ConfigError(f"{lock_path}: cannot lock: {exc.strerror}") from None
            yield

    def _write(self, config: Config) -> None:
        import tomli_w

        text = tomli_w.dumps(to_data(config))
        try:
            atomic_write(self.path, text)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be saved: {exc.strerror}") from None


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text`: readers see the old file or the new, never half."""
    import tempfile

    folder = path.parent
    # mkstemp creates the file 0600 from the start: no window in which another
    # user could open it.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)




def ownership_problems(path: Path, uid: int | None = None) -> list[str]:
    """What is wrong, ssh-style, with who may change `path` and its folder:
    owned by another user (root excepted), or writable by group or others."""
    if uid is None:
        if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has ACLs instead
            return []
        uid = os.geteuid()
    problems = []
    for what, where in (("the file", path), ("its folder", path.parent)):
        try:
            st = os.stat(where)
        except OSError:
            continue
        if st.st_uid not in (uid, 0):
            problems.append(f"{what} is owned by another user (uid {st.st_uid})")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            problems.append(f"{what} can be written by "
                            + ("others" if st.st_mode & stat.S_IWOTH else "its group")
                            + f" (mode {stat.S_IMODE(st.st_mode):04o})")
    return problems


@contextlib.contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created 0600) for the block.

    OSError from opening or locking reaches the caller, which decides whether
    working without the lock is safe.
    """
    # O_NOFOLLOW: a link planted at the lock's name must not make us create or
    # open a file elsewhere (ELOOP reaches the caller as OSError).
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
