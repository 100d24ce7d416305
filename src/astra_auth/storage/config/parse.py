"""Reading the config file's TOML into the model, strictly, and writing it back.

A file that does not parse or validate is a `ConfigError` naming the file and
the setting, with the first problem in a fixed order, and is never rewritten.
No secret is ever written, and one written by hand is refused without echoing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict
from pathlib import Path
from typing import Any

from astra_auth.core import validate
from astra_auth.core.errors import ConfigError
from astra_auth.core.version import __version__
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

VERSION = 1

# Keys a user might add by hand that must never live in a plain file.
_SECRET_KEYS = {"client_secret", "password", "access_token", "refresh_token", "token", "secret",
                "api_key", "bearer_token", "signing_key", "private_key", "key",
                "secret_access_key", "session_token", "dpop_key"}


def loads(raw: bytes, path: Path) -> Config:
    """The config in the file at `path`, whose bytes are `raw`."""
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line N, column M)".
        raise ConfigError(
            f"{path}: is not valid TOML: {exc}",
            hints=["Fix the file by hand; astra-auth will not overwrite it."],
        ) from None
    except RecursionError:
        # tomllib recurses into nested arrays and inline tables.
        raise ConfigError(
            f"{path}: is not a config file astra-auth can read: it nests "
            "arrays or tables thousands deep",
            hints=["Fix the file by hand; astra-auth will not overwrite it."],
        ) from None
    return parse(data, path)


def dumps(config: Config) -> str:
    """The config as the file's TOML."""
    import tomli_w

    return tomli_w.dumps(to_data(config))


def parse(data: Mapping[str, Any], path: Path) -> Config:
    def fail(where: str, problem: str, *, fix: str | None = None,
             category: str | None = None) -> ConfigError:
        return ConfigError(
            f"{path}: {where}: {problem}",
            hints=[
                *([fix] if fix else []),
                "Fix or remove the file by hand; astra-auth will not overwrite it. "
                "`astra-auth --config OTHER.toml …` uses another file meanwhile."
            ],
            category=category,
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
                          "aws_sigv4", "http_signature", "digest",
                          "private_host_ok", "ca_bundle", "timeout"})
_OAUTH2_KEYS = frozenset({"grant_type", "token_url", "client_id", "client_auth", "scope",
                          "audience", "username", "secrets", "extra_params", "assertion_alg",
                          "assertion_audience", "assertion_kid", "certificate",
                          "certificate_bound",
                          "authorization_url", "device_authorization_url", "dpop", "dpop_alg"})


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
    "assertion_alg": lambda v: validate.choice(v, validate.ASSERTION_ALGORITHMS),
    "assertion_audience": _audience,
    "assertion_kid": validate.signature_key_id,
    "certificate": lambda v: validate.file_path(v, "certificate path"),
    "authorization_url": validate.token_url,
    "device_authorization_url": validate.token_url,
    "dpop_alg": lambda v: validate.choice(v, validate.DPOP_ALGORITHMS),
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
    dpop = data.get("dpop", False)
    if not isinstance(dpop, bool):
        raise fail(f"{where}.dpop", "must be true or false")
    settings.dpop = dpop
    if settings.dpop_alg and not settings.dpop:
        raise fail(f"{where}.dpop_alg", "only a target with dpop = true has one")
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
        values[key] = _opt_str(data, key, where, fail, check) or ""
    return values


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


def _required(data: Mapping[str, Any], key: str, where: str, fail: Any, check: Any) -> str:
    value = _opt_str(data, key, where, fail, check)
    if value is None:
        raise fail(f"{where}.{key}", "missing")
    return value


def _parse_aws_sigv4(data: dict[str, Any], where: str, fail: Any) -> AwsSigV4:
    _no_unknown(data, {"access_key_id", "region", "service", "secrets"}, where, fail)
    return AwsSigV4(
        access_key_id=_required(data, "access_key_id", where, fail, validate.aws_access_key_id),
        region=_required(data, "region", where, fail, lambda v: validate.aws_name(v, "region")),
        service=_required(data, "service", where, fail,
                          lambda v: validate.aws_name(v, "service")),
        secrets=_secrets_mode(data, where, fail))


def _parse_http_signature(data: dict[str, Any], where: str, fail: Any) -> HttpSignature:
    _no_unknown(data, {"key_id", "algorithm", "components", "label", "lifetime", "secrets"},
                where, fail)
    settings = HttpSignature(
        key_id=_required(data, "key_id", where, fail, validate.signature_key_id),
        algorithm=_required(data, "algorithm", where, fail,
                            lambda v: validate.choice(v, validate.HTTP_SIGNATURE_ALGORITHMS)),
        label=_opt_str(data, "label", where, fail, validate.signature_label) or "sig1",
        secrets=_secrets_mode(data, where, fail))
    if "components" in data:
        components = data["components"]
        if not isinstance(components, list) or not components or not all(
                isinstance(c, str) for c in components):
            raise fail(f"{where}.components", "must be a list of component names, at least one")
        try:
            settings.components = [validate.signature_component(c) for c in components]
        except ValueError as exc:
            raise fail(f"{where}.components", str(exc)) from None
        if len(set(settings.components)) != len(settings.components):
            raise fail(f"{where}.components", "names a component twice")
    lifetime = data.get("lifetime", 300)
    if (not isinstance(lifetime, int) or isinstance(lifetime, bool)
            or not 1 <= lifetime <= validate.MAX_SIGNATURE_LIFETIME):
        raise fail(f"{where}.lifetime", "must be a whole number of seconds from 1 to "
                   f"{validate.MAX_SIGNATURE_LIFETIME}")
    settings.lifetime = lifetime
    return settings


def _parse_digest(data: dict[str, Any], where: str, fail: Any) -> Digest:
    _no_unknown(data, {"username", "secrets"}, where, fail)
    username = _required(data, "username", where, fail,
                         lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME))
    if any(ch in username for ch in '"\\'):
        # RFC 7616 §3.4: the username goes into a quoted string as it is (no userhash).
        raise fail(f"{where}.username", "cannot contain a double quote or a backslash")
    return Digest(username=username, secrets=_secrets_mode(data, where, fail))


_TYPE_PARSERS: dict[str, Any] = {
    "oauth2": _parse_oauth2,
    "basic": _parse_basic,
    "bearer": _parse_bearer,
    "api_key": _parse_api_key,
    "jwt": _parse_jwt,
    "aws_sigv4": _parse_aws_sigv4,
    "http_signature": _parse_http_signature,
    "digest": _parse_digest,
}


def _opt_str(data: Mapping[str, Any], key: str, where: str, fail: Any, check: Any) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise fail(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
    try:
        return check(value)
    except validate.InsecureURL as exc:
        # The https address is the fix, to write where the http one is.
        raise fail(f"{where}.{key}", str(exc), category="insecure_url",
                   fix=f"Write the https address in [{where}]: "
                       f"{key} = {json.dumps(validate.https_form(value))}") from None
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
            for key in ("assertion_alg", "assertion_audience", "assertion_kid", "certificate"):
                if getattr(o, key):
                    oauth[key] = getattr(o, key)
            if o.certificate_bound:
                oauth["certificate_bound"] = True
            if o.dpop:
                oauth["dpop"] = True
                if o.dpop_alg:
                    oauth["dpop_alg"] = o.dpop_alg
            if o.extra_params:
                oauth["extra_params"] = dict(o.extra_params)
            entry["oauth2"] = oauth
        for key in ("basic", "bearer", "api_key", "jwt", "aws_sigv4", "http_signature",
                    "digest"):
            settings = getattr(target, key)
            if settings is not None:
                entry[key] = {k: v for k, v in asdict(settings).items()
                              if not (key == "jwt" and k == "claims" and not v)}
        targets[name] = entry
    return {"version": VERSION, "targets": targets}
