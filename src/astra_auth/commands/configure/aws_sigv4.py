"""AWS Signature Version 4 as `configure` sees it: the access key ID, region and
service in the config; the secret access key and, for temporary credentials,
the session token in the keyring.

A session token belongs to its key pair: it is kept on a re-run only while
neither the access key ID nor the secret access key changes; a new key given
without one has none (long-term keys, AKIA…, have none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Secret, Session
from astra_auth.commands.configure.ask import ask_secret, ask_valid, old_settings
from astra_auth.core import validate
from astra_auth.storage.config import AwsSigV4, Target
from astra_auth.storage.secretstore import entry, env_names, env_source
from astra_auth.ui.prompter import Choice


def _region(value: str) -> str:
    return validate.aws_name(value, "region")


def _service(value: str) -> str:
    return validate.aws_name(value, "service")


def ask_access_key_id(s: Session) -> None:
    old = old_settings(s, "aws_sigv4")
    s.answers.fields["access_key_id"] = s.opts.access_key_id or ask_valid(
        s.deps, "Access key ID (AKIA…, or ASIA… for temporary credentials)",
        old.access_key_id if old else None, validate.aws_access_key_id)


def ask_region(s: Session) -> None:
    old = old_settings(s, "aws_sigv4")
    s.answers.fields["region"] = s.opts.region or ask_valid(
        s.deps, "Region (the API's, as in its URL: eu-west-1)", old.region if old else None,
        _region)


def ask_service(s: Session) -> None:
    old = old_settings(s, "aws_sigv4")
    s.answers.fields["service"] = s.opts.service or ask_valid(
        s.deps, "Service (execute-api for API Gateway)",
        old.service if old else "execute-api", _service)


def ask_secret_access_key(s: Session) -> None:
    ask_secret(s, "secret_access_key")


def ask_session_token(s: Session) -> None:
    """Optional: temporary credentials (STS, ASIA…) have one, long-term keys none."""
    answers, deps = s.answers, s.deps
    answers.secrets.pop("session_token", None)
    if answers.secrets_mode == "env":
        deps.io.info("Session token: not stored; read from "
                     f"{env_names(answers.name, 'session_token')[0]} where it is set "
                     "(temporary credentials).")
        return
    given = s.given.get("session_token")
    if given is not None:
        answers.secrets["session_token"] = Secret("new", given)
        return
    stored = not _key_changes(s) and deps.secrets.get(
        entry(answers.name, "session_token")) is not None
    message = ("Session token (hidden; Enter keeps the stored one, '-' for none)" if stored
               else "Session token (hidden; only temporary credentials have one: Enter for "
                    "none)")
    while True:
        typed = deps.prompter.secret(message)
        if not typed:
            if stored:
                answers.secrets["session_token"] = Secret("stored")
            return
        if typed == "-":
            return
        try:
            answers.secrets["session_token"] = Secret(
                "new", validate.secret_value(typed, "session token"))
            return
        except ValueError as exc:
            deps.io.warn(f"{exc}. Try again.")


def _key_changes(s: Session) -> bool:
    """Whether this run gives a new access key ID or secret access key: a stored
    session token was issued with the old pair."""
    old = old_settings(s, "aws_sigv4")
    if old is None or s.answers.fields.get("access_key_id") != old.access_key_id:
        return True
    secret = s.answers.secrets.get("secret_access_key")
    if secret is not None:
        return secret.state == "new"
    return (s.given.get("secret_access_key") is not None
            or env_source(s.answers.name, "secret_access_key", s.deps.environ) is not None)


def from_flags(s: Session) -> None:
    old = old_settings(s, "aws_sigv4")
    f, opts = s.answers.fields, s.opts
    for key, flag in (("access_key_id", "--access-key-id"), ("region", "--region"),
                      ("service", "--service")):
        f[key] = getattr(opts, key) or (getattr(old, key) if old else None)
        if f[key] is None:
            s.missing.append(flag)
    _session_token_from_flags(s)


def _session_token_from_flags(s: Session) -> None:
    from astra_auth.commands.configure.options import check_secret

    answers, deps = s.answers, s.deps
    if answers.secrets_mode == "env":
        return  # read at run time where its variable is set
    value = s.given.get("session_token")
    variable = env_source(answers.name, "session_token", deps.environ)
    if value is None and variable is not None:
        value = check_secret(deps.environ[variable], variable, "session token")
    if value is not None:
        answers.secrets["session_token"] = Secret("new", value)
    elif (answers.existing is not None and not _key_changes(s)
          and deps.secrets.get(entry(answers.name, "session_token")) is not None):
        answers.secrets["session_token"] = Secret("stored")


def secret_kinds(answers: Answers) -> list[str]:
    return ["secret_access_key"] + (["session_token"] if "session_token" in answers.secrets
                                    else [])


def settings(answers: Answers) -> dict[str, Any]:
    f = answers.fields
    return {"aws_sigv4": AwsSigV4(access_key_id=f["access_key_id"], region=f["region"],
                                  service=f["service"], secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    aws = target.aws_sigv4
    assert aws is not None
    try:
        token = secret("session_token")
    except KeyError:
        token = "none"
    return [("Access key ID", aws.access_key_id), ("Secret access key",
                                                    secret("secret_access_key")),
            ("Session token", token), ("Region", aws.region), ("Service", aws.service)]


TYPE = AuthType(
    key="aws_sigv4",
    choice=Choice(validate.AUTH_LABELS["aws_sigv4"],
                  "every request signed with an AWS access key"),
    steps=(ask_access_key_id, ask_secret_access_key, ask_session_token, ask_region,
           ask_service),
    from_flags=from_flags,
    from_provider=lambda s: None,
    secret_kinds=secret_kinds,
    kept_kinds=("secret_access_key", "session_token"),
    settings=settings,
    summary=summary,
    flags=("--access-key-id", "--region", "--service", "--secret-access-key-stdin",
           "--session-token-stdin"),
)
