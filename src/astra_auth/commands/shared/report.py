"""The renderings of a `Diagnosis`: the JSON object of `test-token --json`,
the success or failure panel and the `--all` block (`--verbose`: `verbose`).

`test-token` prints them; `configure` prints the panel after saving.  The JSON
object's fields are documented in the README ("test-token") and do not change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from astra_auth.core.validate import AUTH_LABELS, GRANT_LABELS, LOGIN_GRANTS, secret_label
from astra_auth.diagnosis.diagnose import Diagnosis, TokenFacts
from astra_auth.text.safetext import clean

if TYPE_CHECKING:
    from astra_auth.deps import Deps

# The auth types whose credential is a token, which may or may not be a JWT.
TOKEN_TYPES = ("oauth2", "bearer")


def waiting_status(deps: Deps) -> Callable[[str], AbstractContextManager[object]] | None:
    """The status line shown at a terminal while a token URL is asked."""
    if not deps.io.err.is_terminal:
        return None
    return lambda token_url: deps.io.err.status(f"Requesting a token from {token_url} …")


def show(diagnosis: Diagnosis, deps: Deps, *, verbose: bool = False,
         summary: bool = False) -> None:
    """One target's human output: the panel, or with `summary` the block of
    `test-token --all`; `verbose` adds the exchanges with the token endpoint."""
    if verbose:
        from astra_auth.commands.shared.verbose import print_verbose

        print_verbose(diagnosis, deps)
    if summary:
        print_summary(diagnosis, deps)
    else:
        print_panel(diagnosis, deps)


# ---------------------------------------------------------------------------
# JSON


def to_json(d: Diagnosis) -> dict[str, Any]:
    """The `test-token --json` object of one target."""
    target = d.target
    o = target.oauth2
    data: dict[str, Any] = {
        "ok": d.ok,
        "target": target.name,
        "grant_type": o.grant_type if o is not None else None,
        "token_url": o.token_url if o is not None else None,
    }
    t = d.token
    if t is not None:
        data.update({
            "http_status": t.http_status,
            "token_type": t.token_type,
            "expires_in": t.expires_in,
            "scope": t.scope,
            "refresh_token_issued": t.refresh_token_issued,
            "jwt_claims": t.jwt_claims,
            "client_auth": t.client_auth,
            "elapsed_ms": d.elapsed_ms,
            "warnings": d.warnings,
        })
        if o is not None and o.needs_login:
            data["refresh_token_expires_in"] = t.refresh_token_expires_in
    else:
        assert d.failure is not None
        if o is None:
            data["http_status"] = None  # no token endpoint
        data.update({"error": d.failure.to_json(), "hints": d.hints,
                     "elapsed_ms": d.elapsed_ms, "warnings": d.warnings})
    data["auth_type"] = target.auth_type
    data["secret_sources"] = d.secret_sources
    data["api"] = d.api.to_json() if d.api is not None else None
    if t is not None and d.failure is not None:
        # The credential was obtained, and the API refused it.
        data["error"] = d.failure.to_json()
        data["hints"] = d.hints
    return data


# ---------------------------------------------------------------------------
# The panel


def print_panel(d: Diagnosis, deps: Deps) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    target = d.target
    o = target.oauth2
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    parts: list[Any] = [grid]
    assert target.auth_type is not None
    if d.ok:
        t = d.token
        assert t is not None
        accepted = d.api is not None and bool(d.api.ok)
        title = Text.assemble(("✓ ", "bold green"),
                              (f"{target.name}: "
                               + ("token obtained" if o is not None else "credential ready")
                               + (" and accepted by the API" if accepted else ""),
                               "bold"))
        grid.add_row("Auth type", AUTH_LABELS[target.auth_type])
        _secret_rows(grid, d)
        if o is not None:
            grid.add_row("Grant", GRANT_LABELS[o.grant_type])
            grid.add_row("Token URL", _text(o.token_url))
            grid.add_row("HTTP status", str(t.http_status))
            grid.add_row("Token type", _text(t.token_type or ""))
        else:
            grid.add_row("Sent as", _text(t.sent_as or ""))
        signed_per_request = o is None and target.signs_each_request
        grid.add_row("Expires in", f"{t.expires_in} s" if t.expires_in is not None
                     else "— (signed anew for each request)" if signed_per_request
                     else "not stated")
        if o is not None:
            grid.add_row("Scope", _text(t.scope or "—"))
            grid.add_row("Refresh token", _refresh_row(t, o.grant_type))
            grid.add_row("Client auth", t.client_auth)
        grid.add_row("Took", f"{d.elapsed_ms} ms")
        if d.attempts > 1:
            grid.add_row("Attempts", "2 (the second with the other client-authentication method)")
        _api_row(grid, d)
        claims = t.jwt_claims
        if claims is not None:
            header = t.jwt_header or {}
            if header:
                parts.append(Text("\nJWT header:", style="bold"))
                parts.append(_numbered([(clean(str(k)), _claim_text(k, v))
                                        for k, v in header.items()], "cyan"))
            parts.append(Text("\nJWT claims (decoded; signature not verified):", style="bold"))
            claims_grid = Table.grid(padding=(0, 2))
            claims_grid.add_column(style="cyan", no_wrap=True)
            claims_grid.add_column(overflow="fold")
            for key, value in claims.items():
                claims_grid.add_row(_text(str(key)), _text(_claim_text(key, value)))
            parts.append(claims_grid)
        elif target.auth_type in TOKEN_TYPES:
            grid.add_row("JWT", "no (an opaque token)")
        style = "green"
    else:
        error = d.failure
        assert error is not None
        title = Text.assemble(("✗ ", "bold red"),
                              (f"{target.name}: {error.category}", "bold"))
        grid.add_row("What happened", _text(error.message))
        grid.add_row("Auth type", AUTH_LABELS[target.auth_type])
        _secret_rows(grid, d)
        if o is not None:
            grid.add_row("Grant", GRANT_LABELS[o.grant_type])
            grid.add_row("Token URL", _text(o.token_url))
        grid.add_row("HTTP status", str(error.http_status) if error.http_status else "—")
        _api_row(grid, d)
        if error.oauth_error:
            grid.add_row("error", _text(error.oauth_error))
        if error.oauth_error_description:
            grid.add_row("error_description", _text(error.oauth_error_description))
        if d.attempts > 1:
            grid.add_row("Attempts", "2 (both client-authentication methods)")
        parts.append(Text("\nWhat to do:", style="bold"))
        parts.append(_numbered([(f"{n}.", h) for n, h in enumerate(d.hints, start=1)]))
        style = "red"
    warnings = d.shown_warnings
    if warnings:
        parts.append(Text("\nWarnings:", style="bold yellow"))
        parts.append(_numbered([("!", w) for w in warnings], "yellow"))
    deps.io.out.print(Panel(Group(*parts), title=title, title_align="left", border_style=style,
                            expand=False))


def _refresh_row(t: TokenFacts, grant_type: str) -> str:
    """The refresh token's line; for the login grants, the one that renewed the token."""
    issued = t.refresh_token_issued
    if grant_type in LOGIN_GRANTS:
        text = ("used to renew; the provider rotated it, the new one is stored" if issued
                else "used to renew; still valid (not rotated)")
    else:
        text = "issued" if issued else "not issued"
    seconds = t.refresh_token_expires_in
    if seconds is not None:
        text += f"; it expires in {_duration(seconds)}, then log in again"
    elif grant_type in LOGIN_GRANTS:
        text += "; the provider does not say when it expires"
    return text


def _duration(seconds: int) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days ({seconds} s)"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours ({seconds} s)"
    return f"{seconds} s"


def _secret_rows(grid: Any, d: Diagnosis) -> None:
    for kind, source in d.secret_sources.items():
        grid.add_row(secret_label(kind), source_text(source))


def source_text(source: str) -> str:
    """Where a secret came from, in words: "from the OS keyring", "from
    ASTRA_AUTH_X", or "missing" (found nowhere)."""
    if source == "missing":
        return "missing"
    return "from the OS keyring" if source == "keyring" else f"from {source}"


def _api_row(grid: Any, d: Diagnosis) -> None:
    api = d.api
    if api is None:
        return
    if api.http_status is None:
        shown = f"not reached from here ({_text(api.url)})"
    else:
        shown = f"{api.http_status} from GET {clean(api.url)} ({api.elapsed_ms} ms)"
        if api.ok is None:
            shown += ": neither accepted nor refused"
    grid.add_row("API check", _text(shown))
    if api.www_authenticate:
        grid.add_row("WWW-Authenticate", _text(api.www_authenticate))


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


def _claim_text(key: str, value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    if key in ("exp", "iat", "nbf") and isinstance(value, int | float):
        when = dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        text = f"{value} ({when})"
    return text


# ---------------------------------------------------------------------------
# test-token --all


def print_summary(d: Diagnosis, deps: Deps) -> None:
    """One block per target, in the manner of `gh auth status`."""
    from rich.markup import escape

    target = d.target
    o = target.oauth2
    out = deps.io.out
    out.print(f"[bold]{escape(target.name)}[/bold]")
    if d.ok and o is not None:
        assert d.token is not None
        out.print(f"  [green]✓[/green] Token obtained from {_one(o.token_url)} "
                  f"({GRANT_LABELS[o.grant_type]}, {d.token.client_auth}, "
                  f"{d.elapsed_ms} ms)", soft_wrap=True)
    elif d.ok:
        assert target.auth_type is not None
        out.print(f"  [green]✓[/green] {AUTH_LABELS[target.auth_type]} credential ready "
                  f"({d.elapsed_ms} ms)", soft_wrap=True)
    for kind, source in d.secret_sources.items():
        out.print(f"  {secret_label(kind)}: {escape(source_text(source))}", soft_wrap=True)
    if d.api is not None and d.api.ok:
        out.print(f"  [green]✓[/green] Accepted by the API: {d.api.http_status} from "
                  f"{_one(d.api.url)}", soft_wrap=True)
    if d.failure is not None:
        out.print(f"  [red]✗[/red] {d.failure.category}: {_one(d.failure.message)}",
                  soft_wrap=True)
        if d.hints:
            out.print(f"  - To fix: {_one(d.hints[0])}", soft_wrap=True)
    for warning in d.shown_warnings:
        out.print(f"  [yellow]![/yellow] {_one(warning)}", soft_wrap=True)


def _one(text: str) -> str:
    """Outside text inside one line of markup: escaped for rich, neutralised,
    line breaks included (a provider's newline must not start a line of ours)."""
    from rich.markup import escape

    return escape(clean(text, one_line=True))
