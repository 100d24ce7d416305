"""`astra-auth test-token`: perform the grant for real and say what happened."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_auth.commands.options.test_token import TestTokenOptions
from astra_auth.core.errors import ConfigError, ExitCode, SilentError, UsageError
from astra_auth.core.failure import Category, Failure
from astra_auth.core.validate import AUTH_LABELS, GRANT_LABELS, LOGIN_GRANTS
from astra_auth.credentials.interface import Credential
from astra_auth.credentials.oauth2 import access_token_credential
from astra_auth.credentials.oauth2_request import grant_request
from astra_auth.credentials.secrets import SecretProblem
from astra_auth.deps import Deps
from astra_auth.diagnosis import apicheck
from astra_auth.diagnosis.apicheck import ApiCheck
from astra_auth.diagnosis.hints import Context, configure_command, hints_for, seconds
from astra_auth.diagnosis.providers import provider_hints
from astra_auth.net.settings import check_network_options
from astra_auth.net.transport import Deadline, environment_proxy, proxy_for
from astra_auth.oauth import unverified_jwt as jwt
from astra_auth.oauth.grant import Outcome, request_token
from astra_auth.storage.config import Config, Target
from astra_auth.storage.lookup import lookup
from astra_auth.storage.secretstore import sources
from astra_auth.text.redact import Redactor
from astra_auth.text.safetext import clean, dumps
from astra_auth.text.shellcmd import Placeholder, command, suggestable_url

DEFAULT_TIMEOUT = 10.0
RFC9700_NOTE = (
    "A note: the OAuth 2.0 Security Best Current Practice (RFC 9700) discourages the "
    "password grant; where the provider allows it, Client Credentials keeps user "
    "passwords out of the scanner."
)


@dataclass
class Report:
    target: Target
    ok: bool
    exit_code: ExitCode
    data: dict[str, Any]  # the contract's JSON object
    hints: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    api: ApiCheck | None = None
    # Shown by the panel, not part of the contract's JSON: the JWT's header,
    # where a credential other than an access token goes.
    shown: dict[str, Any] = field(default_factory=dict)


def test_token(opts: TestTokenOptions, deps: Deps) -> None:
    _check_options(opts)
    config = deps.config.load()
    if opts.all:
        if opts.name:
            raise UsageError("give a target NAME or --all, not both")
        targets = [config.targets[n] for n in sorted(config.targets)
                   if config.targets[n].auth_type is not None]
        if not targets:
            raise ConfigError("no configured targets to test",
                              hints=["Add one with: " + command("configure")])
    else:
        target = _pick(opts.name, config, deps)
        if target.auth_type is None:
            raise ConfigError(
                f"target {target.name!r} has no authentication configured yet",
                hints=["Set it up with: " + command("configure", target.name)])
        if opts.probe is not None:
            apicheck.probe_url(target, opts.probe)  # a bad --probe is exit 2 before anything
        targets = [target]

    reports = []
    for target in targets:
        report = check(target, opts, deps)
        reports.append(report)
        if not opts.json:
            print_report(report, opts, deps)
    if opts.json:
        payload: Any = [r.data for r in reports] if opts.all else reports[0].data
        deps.io.write_out(dumps(payload, indent=2) + "\n")
    worst = max((r.exit_code for r in reports), default=ExitCode.OK)
    if worst != ExitCode.OK:
        raise SilentError(worst)


def print_report(report: Report, opts: TestTokenOptions, deps: Deps) -> None:
    """One target's human output: the panel, or the --all lines."""
    if opts.verbose:
        _print_verbose(report, deps)
    if opts.all:
        _print_line(report, deps)
    else:
        _print_panel(report, deps)


def _check_options(opts: TestTokenOptions) -> None:
    if opts.probe is not None and opts.no_probe:
        raise UsageError("--probe and --no-probe cannot be used together")
    check_network_options(opts.timeout, opts.ca_bundle)


def _pick(name: str | None, config: Config, deps: Deps) -> Target:
    if name is not None:
        return lookup(config, name, deps)
    names = sorted(config.targets)
    if not names:
        raise ConfigError("no targets yet", hints=["Add one with: " + command("configure")])
    if len(names) == 1:
        return config.targets[names[0]]
    if deps.io.can_prompt():
        from astra_auth.ui.picker import pick_target

        return config.targets[pick_target(deps, config.targets, "Targets")]
    raise UsageError(
        f"there are {len(names)} targets; name one ({', '.join(names)}) or use --all"
    )


def check(target: Target, opts: TestTokenOptions, deps: Deps) -> Report:
    """Test one target: obtain its credential, then check it against the API.
    Never raises for what the provider, the API or the network does."""
    from dataclasses import replace

    from astra_auth.net.settings import network

    timeout, ca_bundle = network(target, opts.timeout, opts.ca_bundle)
    opts = replace(opts, timeout=timeout, ca_bundle=ca_bundle)
    if target.auth_type == "oauth2":
        report, credential = _check_oauth2(target, opts, deps)
    else:
        report, credential = _check_other(target, opts, deps)
    report.data["auth_type"] = target.auth_type
    report.data["secret_sources"] = sources(target, deps.environ)
    if target.private_host_ok:
        # Acknowledged at configure: kept in the JSON, not repeated in the panels.
        said = f"{target.private_host_ok} resolves to "
        report.shown["acknowledged"] = [w for w in report.data["warnings"]
                                        if w.startswith(said)]
    report.data.setdefault("api", None)
    if credential is not None and not opts.no_probe:
        _check_api(report, credential, opts, deps)
    return report


def _check_api(report: Report, credential: Credential, opts: TestTokenOptions,
               deps: Deps) -> None:
    url = apicheck.probe_url(report.target, opts.probe)
    if url is None:
        report.data["warnings"].append(
            "No API check: the target has no API URL. Give one with --probe URL, or save it "
            "with: " + command("configure", report.target.name, "--url",
                               Placeholder("https://api.example.com"), "--no-input"))
        return
    assert opts.timeout is not None  # settled per target by check()
    from astra_auth.credentials.oauth2_request import client_key, presents_certificate

    # Certificate-bound tokens (RFC 8705 §3): the API wants the same certificate.
    # The key was read and checked for the grant a moment ago.
    identity = client_key(report.target, deps) if presents_certificate(report.target, to_api=True) else None
    result = apicheck.run(report.target, credential, url, deps, timeout=opts.timeout,
                          ca_bundle=opts.ca_bundle, identity=identity)
    report.api = result
    report.data["api"] = result.to_json()
    report.data["warnings"].extend(result.warnings)
    if result.failure is not None:
        report.ok = False
        report.hints = result.hints
        report.exit_code = result.failure.exit_code
        report.data["ok"] = False
        report.data["error"] = result.failure.to_json()
        report.data["hints"] = result.hints


def _check_other(target: Target, opts: TestTokenOptions,
                 deps: Deps) -> tuple[Report, Credential | None]:
    """Basic, bearer, api_key, jwt: read (or sign) the credential through its source."""
    from astra_auth.core.failure import CredentialError
    from astra_auth.credentials.interface import SourceSettings, open_source

    started = deps.monotonic()
    base: dict[str, Any] = {"ok": False, "target": target.name, "grant_type": None,
                            "token_url": None, "http_status": None}
    source = open_source(target, deps, SourceSettings(timeout=opts.timeout,
                                                      ca_bundle=opts.ca_bundle, use_cache=False))
    try:
        credential = source.get()
    except CredentialError as exc:
        return _failed(target, base, exc.failure, exc.hints, _ms(deps, started), []), None
    warnings: list[str] = []
    claims = jwt.claims(credential.token) if credential.token else None
    expires_in = (max(0, math.ceil(credential.expires_at - deps.clock()))
                  if credential.expires_at is not None else None)
    data = dict(base)
    data.update({
        "ok": True,
        "token_type": credential.token_type,
        "expires_in": expires_in,
        "scope": None,
        "refresh_token_issued": False,
        "jwt_claims": claims,
        "client_auth": None,
        "elapsed_ms": _ms(deps, started),
        "warnings": warnings,
    })
    shown = {"jwt_header": jwt.header(credential.token) if claims is not None and
             credential.token else None, "sent_as": f"{credential.location} {credential.name}"}
    return Report(target, True, ExitCode.OK, data, shown=shown), credential


def _keyring_usable(target: Target, failure: Failure, deps: Deps) -> bool:
    """Whether this machine's keyring answers, so that a missing-secret hint
    offers to store the secret there only where that works.  An env-mode
    target never asked it; asked here, for the hint alone."""
    known = failure.details.get("keyring")
    if known is not None:
        return known == "usable"
    from astra_auth.core.errors import KeyringUnavailable
    from astra_auth.storage.secretstore import entry

    try:
        deps.secrets.get(entry(target.name, "token"))
    except KeyringUnavailable:
        return False
    return True


def _ms(deps: Deps, started: float) -> int:
    return int((deps.monotonic() - started) * 1000)


def _check_oauth2(target: Target, opts: TestTokenOptions,
                  deps: Deps) -> tuple[Report, Credential | None]:
    """Perform the configured grant, with every diagnosis of a failure."""
    o = target.oauth2
    assert o is not None
    warnings: list[str] = []
    address = deps.address_warning(o.token_url)
    if address:
        warnings.append(address)
    if o.grant_type == "password":
        warnings.append(RFC9700_NOTE)
    ctx = Context.of(target, deps.environ)
    base = {"ok": False, "target": target.name, "grant_type": o.grant_type,
            "token_url": o.token_url}
    try:
        req = grant_request(target, deps)
    except SecretProblem as exc:
        ctx.keyring_usable = _keyring_usable(target, exc.failure, deps)
        return _failed(target, base, exc.failure, hints_for(exc.failure, ctx), 0,
                       warnings), None

    # One deadline for the target's whole check: the grant (both client
    # authentication methods) and the metadata lookup that may follow.
    assert opts.timeout is not None  # settled per target by check()
    timeout = opts.timeout
    deadline = Deadline(timeout)
    spinner = (deps.io.err.status(f"Requesting a token from {o.token_url} …")
               if not opts.json and deps.io.err.is_terminal else contextlib.nullcontext())
    with spinner:
        if o.needs_login:
            # No grant to repeat here: a refresh with the stored refresh token,
            # through the one place that stores the rotated one (issue 13).
            from astra_auth.credentials.oauth2 import TokenSource

            outcome = TokenSource(target, deps, timeout=timeout,
                                  ca_bundle=opts.ca_bundle).refresh_outcome(deadline)
        else:
            outcome = request_token(
                req, lambda: deps.http_client(timeout, opts.ca_bundle,
                                              identity=req.tls_identity), timeout=timeout,
                deadline=deadline, monotonic=deps.monotonic,
            )
    redactor = outcome.redactor

    if outcome.token is None:
        assert outcome.failure is not None
        hints = list(dict.fromkeys(  # in order, none twice
            _specific_hints(outcome.failure, ctx, deps, opts.ca_bundle, deadline)
            + hints_for(outcome.failure, ctx)))
        return _failed(target, base, outcome.failure, hints, outcome.elapsed_ms, warnings,
                       outcome), None

    token = outcome.token
    if outcome.switched_client_auth:
        warnings.insert(0, (
            f"The provider refused client authentication `{o.client_auth}` and accepted "
            f"`{outcome.client_auth}` on a second attempt. Save the method that works: "
            + configure_command(ctx, "--client-auth", outcome.client_auth)
        ))
    if token.expires_in is not None and token.expires_in < 60:
        warnings.append(
            f"The token expires in {seconds(token.expires_in)}: a scan will need a new one "
            "almost at once (astra-auth renews it, but check the provider's token lifetime)."
        )
    if token.token_type.lower() != "bearer":
        warnings.append(f"The token type is {token.token_type!r}, not Bearer; most APIs "
                        "and scanners expect Bearer tokens.")
    claims = jwt.claims(token.access_token)
    if claims is not None:
        claims = _masked_claims(claims, redactor)
        alg = (jwt.header(token.access_token) or {}).get("alg")
        if isinstance(alg, str) and alg.lower() == "none":
            warnings.append("The token's JWT header says alg: none: it is not signed, so an API "
                            "that accepts it would accept a forged one too. Ask the provider "
                            "to sign its tokens.")
    data = {
        "ok": True,
        "target": target.name,
        "grant_type": o.grant_type,
        "token_url": o.token_url,
        "http_status": outcome.http_status,
        "token_type": token.token_type,
        "expires_in": token.expires_in,
        "scope": token.scope,
        "refresh_token_issued": token.refresh_token is not None,
        "jwt_claims": claims,
        "client_auth": outcome.client_auth,
        "elapsed_ms": outcome.elapsed_ms,
        "warnings": warnings,
    }
    if o.needs_login:
        # Issue 13: when the refresh token itself expires, where the provider
        # says so (null: it does not); the login grants' key only.
        data["refresh_token_expires_in"] = token.refresh_expires_in
    expires_at = (deps.clock() + token.expires_in) if token.expires_in is not None else None
    credential = access_token_credential(token.access_token, token.token_type, expires_at,
                                         token.scope)
    shown = {"jwt_header": jwt.header(token.access_token) if claims is not None else None}
    return Report(target, True, ExitCode.OK, data, outcome=outcome, shown=shown), credential


MAX_CLAIM_DEPTH = 16


def _masked_claims(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    """The claims with every secret masked in keys and values, nesting deeper
    than MAX_CLAIM_DEPTH shown as a note: a provider may nest claims hundreds
    deep to crash a recursive printer."""
    if depth > MAX_CLAIM_DEPTH:
        return "… (nested too deep to show)"
    if isinstance(value, dict):
        return {redactor.redact(str(k)): _masked_claims(v, redactor, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_claims(v, redactor, depth + 1) for v in value]
    if isinstance(value, str):
        return redactor.redact(value)
    return value


# Failures where the provider's own metadata can say what is wrong.
_METADATA_HELPS = {Category.NOT_FOUND, Category.METHOD_NOT_ALLOWED, Category.NOT_JSON,
                   Category.REDIRECT, Category.HTTP_ERROR, Category.INVALID_CLIENT,
                   Category.UNAUTHORIZED_CLIENT, Category.UNSUPPORTED_GRANT_TYPE}


def _refresh_row(data: dict[str, Any]) -> str:
    """The refresh token's line; for the login grants, the one that renewed the token."""
    issued = data["refresh_token_issued"]
    if data["grant_type"] in LOGIN_GRANTS:
        text = ("used to renew; the provider rotated it, the new one is stored" if issued
                else "used to renew; still valid (not rotated)")
    else:
        text = "issued" if issued else "not issued"
    seconds = data.get("refresh_token_expires_in")
    if seconds is not None:
        text += f"; it expires in {_duration(seconds)}, then log in again"
    elif data["grant_type"] in LOGIN_GRANTS:
        text += "; the provider does not say when it expires"
    return text


def _duration(seconds: int) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days ({seconds} s)"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours ({seconds} s)"
    return f"{seconds} s"


def _specific_hints(failure: Failure, ctx: Context, deps: Deps,
                    ca_bundle: Path | None, deadline: Deadline) -> list[str]:
    """Hints from the provider's identity (its URL, its error body) and metadata."""
    hints = provider_hints(failure, ctx)
    if failure.category not in _METADATA_HELPS:
        return hints
    metadata = deps.metadata_for(ctx.token_url, ca_bundle, deadline)
    if metadata is None:
        return hints
    # The endpoint comes from the provider: suggested only when --token-url would
    # accept it, and quoted by configure_command like every argument.
    endpoint = suggestable_url(metadata.token_endpoint)
    if endpoint is not None and endpoint.rstrip("/") != ctx.token_url.rstrip("/"):
        hints.insert(0, f"The provider's discovery document ({metadata.source}) names the "
                        f"token endpoint {endpoint}: "
                        + configure_command(ctx, "--token-url", endpoint))
    supported = metadata.grant_types_supported
    if failure.category in (Category.UNAUTHORIZED_CLIENT, Category.UNSUPPORTED_GRANT_TYPE) \
            and supported:
        hints.append(f"The provider's metadata ({metadata.source}) lists grant_types_supported: "
                     f"{', '.join(supported)}.")
    methods = metadata.token_endpoint_auth_methods_supported
    if failure.category in (Category.INVALID_CLIENT, Category.HTTP_ERROR) and methods:
        hints.append(f"The provider's metadata ({metadata.source}) lists "
                     f"token_endpoint_auth_methods_supported: {', '.join(methods)}.")
    return hints


def _failed(target: Target, base: dict[str, Any], failure: Failure, hints: list[str],
            elapsed_ms: int, warnings: list[str], outcome: Outcome | None = None) -> Report:
    data = dict(base)
    data.update({"error": failure.to_json(), "hints": hints, "elapsed_ms": elapsed_ms,
                 "warnings": warnings})
    return Report(target, False, failure.exit_code, data, hints, outcome)


# ---------------------------------------------------------------------------
# Human output


def _print_panel(report: Report, deps: Deps) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    data = report.data
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    parts: list[Any] = [grid]
    oauth2 = data["grant_type"] is not None
    if report.ok:
        title = Text.assemble(("✓ ", "bold green"),
                              (f"{report.target.name}: "
                               + ("token obtained" if oauth2 else "credential ready")
                               + (" and accepted by the API" if _accepted(data) else ""),
                               "bold"))
        grid.add_row("Auth type", AUTH_LABELS[data["auth_type"]])
        _secret_rows(grid, data)
        if oauth2:
            grid.add_row("Grant", GRANT_LABELS[data["grant_type"]])
            grid.add_row("Token URL", _text(data["token_url"]))
            grid.add_row("HTTP status", str(data["http_status"]))
            grid.add_row("Token type", _text(data["token_type"]))
        else:
            grid.add_row("Sent as", _text(report.shown["sent_as"]))
        expires = data["expires_in"]
        grid.add_row("Expires in", f"{expires} s" if expires is not None else "not stated")
        if oauth2:
            grid.add_row("Scope", _text(data["scope"] or "—"))
            grid.add_row("Refresh token", _refresh_row(data))
            grid.add_row("Client auth", data["client_auth"])
        grid.add_row("Took", f"{data['elapsed_ms']} ms")
        if report.outcome and len(report.outcome.exchanges) > 1:
            grid.add_row("Attempts", "2 (the second with the other client-authentication method)")
        _api_row(grid, data)
        claims = data["jwt_claims"]
        if claims is not None:
            header = report.shown.get("jwt_header") or {}
            if header:
                parts.append(Text("\nJWT header:", style="bold"))
                parts.append(_numbered([(clean(str(k)), _claim_text(k, v, deps))
                                        for k, v in header.items()], "cyan"))
            parts.append(Text("\nJWT claims (decoded; signature not verified):", style="bold"))
            claims_grid = Table.grid(padding=(0, 2))
            claims_grid.add_column(style="cyan", no_wrap=True)
            claims_grid.add_column(overflow="fold")
            for key, value in claims.items():
                claims_grid.add_row(_text(str(key)), _text(_claim_text(key, value, deps)))
            parts.append(claims_grid)
        elif data["token_type"] is not None:
            grid.add_row("JWT", "no (an opaque token)")
        style = "green"
    else:
        error = data["error"]
        title = Text.assemble(("✗ ", "bold red"),
                              (f"{report.target.name}: {error['category']}", "bold"))
        grid.add_row("What happened", _text(error["message"]))
        grid.add_row("Auth type", AUTH_LABELS[data["auth_type"]])
        _secret_rows(grid, data)
        if oauth2:
            grid.add_row("Grant", GRANT_LABELS[data["grant_type"]])
            grid.add_row("Token URL", _text(data["token_url"]))
        grid.add_row("HTTP status", str(error["http_status"]) if error["http_status"] else "—")
        _api_row(grid, data)
        if error["oauth_error"]:
            grid.add_row("error", _text(error["oauth_error"]))
        if error["oauth_error_description"]:
            grid.add_row("error_description", _text(error["oauth_error_description"]))
        if report.outcome and len(report.outcome.exchanges) > 1:
            grid.add_row("Attempts", "2 (both client-authentication methods)")
        parts.append(Text("\nWhat to do:", style="bold"))
        parts.append(_numbered([(f"{n}.", h) for n, h in enumerate(report.hints, start=1)]))
        style = "red"
    warnings = _shown_warnings(report)
    if warnings:
        parts.append(Text("\nWarnings:", style="bold yellow"))
        parts.append(_numbered([("!", w) for w in warnings], "yellow"))
    deps.io.out.print(Panel(Group(*parts), title=title, title_align="left", border_style=style,
                        expand=False))


def _shown_warnings(report: Report) -> list[str]:
    """The warnings a person is shown: not one acknowledged at configure."""
    acknowledged = report.shown.get("acknowledged", [])
    return [w for w in report.data["warnings"] if w not in acknowledged]


def _accepted(data: dict[str, Any]) -> bool:
    return bool(data.get("api") and data["api"]["ok"])


def _secret_rows(grid: Any, data: dict[str, Any]) -> None:
    for kind, source in data.get("secret_sources", {}).items():
        grid.add_row(kind.replace("_", " ").capitalize(), f"from {source}")


def _api_row(grid: Any, data: dict[str, Any]) -> None:
    api = data.get("api")
    if api is None:
        return
    if api["ok"] is None:
        shown = f"not reached from here ({_text(api['url'])})"
    else:
        shown = f"{api['http_status']} from GET {clean(api['url'])} ({api['elapsed_ms']} ms)"
    grid.add_row("API check", _text(shown))
    if api["www_authenticate"]:
        grid.add_row("WWW-Authenticate", _text(api["www_authenticate"]))


def _text(value: str) -> Any:
    """A rich Text of outside text, neutralised before rich measures it (the
    console neutralises again as it writes; doing it here keeps columns true)."""
    from rich.text import Text

    return Text(clean(value))


def _numbered(rows: list[tuple[str, str]], style: str = "cyan") -> Any:
    """Items with a hanging indent, so wrapped lines stay under their text."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=style, justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for mark, text in rows:
        grid.add_row(mark, _text(text))
    return grid


def _claim_text(key: str, value: Any, deps: Deps) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    if key in ("exp", "iat", "nbf") and isinstance(value, int | float):
        when = dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        text = f"{value} ({when})"
    return text


def _print_line(report: Report, deps: Deps) -> None:
    """--all: one block per target, in the manner of `gh auth status`."""
    from rich.markup import escape

    data = report.data
    out = deps.io.out
    out.print(f"[bold]{escape(report.target.name)}[/bold]")
    if report.ok and data["grant_type"] is not None:
        out.print(f"  [green]✓[/green] Token obtained from {_one(data['token_url'])} "
                  f"({GRANT_LABELS[data['grant_type']]}, {data['client_auth']}, "
                  f"{data['elapsed_ms']} ms)", soft_wrap=True)
    elif report.ok:
        out.print(f"  [green]✓[/green] {AUTH_LABELS[data['auth_type']]} credential ready "
                  f"({data['elapsed_ms']} ms)", soft_wrap=True)
    for kind, source in data.get("secret_sources", {}).items():
        out.print(f"  {kind.replace('_', ' ')} from {escape(source)}", soft_wrap=True)
    if data.get("api") and data["api"]["ok"]:
        out.print(f"  [green]✓[/green] Accepted by the API: {data['api']['http_status']} from "
                  f"{_one(data['api']['url'])}", soft_wrap=True)
    if not report.ok:
        error = data["error"]
        out.print(f"  [red]✗[/red] {error['category']}: {_one(error['message'])}",
                  soft_wrap=True)
        if report.hints:
            out.print(f"  - To fix: {_one(report.hints[0])}", soft_wrap=True)
    for warning in _shown_warnings(report):
        out.print(f"  [yellow]![/yellow] {_one(warning)}", soft_wrap=True)


def _one(text: str) -> str:
    """Outside text inside one line of markup: escaped for rich, neutralised,
    line breaks included (a provider's newline must not start a line of ours)."""
    from rich.markup import escape

    return escape(clean(text, one_line=True))


def _print_verbose(report: Report, deps: Deps) -> None:
    from rich.markup import escape

    err = deps.io.err
    o = report.target.oauth2
    if o is None:
        return  # no token endpoint: nothing was exchanged before the API check
    proxy = proxy_for(o.token_url, deps.environ)
    if proxy:
        note = " (plain http: the proxy sees the request unencrypted only if the token URL " \
               "is http; https is tunnelled)" if proxy.startswith("http://") else ""
        err.print(f"[dim]via proxy {escape(proxy)} from the environment{escape(note)}[/dim]")
    elif environment_proxy(o.token_url, deps.environ, loopback_direct=False):
        err.print("[dim]not via the proxy from the environment: the token URL's host is "
                  "loopback, reached directly[/dim]")
    if report.outcome is None:
        return
    for number, exchange in enumerate(report.outcome.exchanges, start=1):
        err.print(f"[bold]── request {number} (client auth {exchange.client_auth}) ──[/bold]")
        for line in exchange.request:
            err.print(escape(clean(line)), soft_wrap=True)
        err.print(f"[bold]── response {number} ──[/bold]")
        for line in exchange.response:
            err.print(escape(clean(line)), soft_wrap=True)
