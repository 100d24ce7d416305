"""`test-token --verbose`: every request to the token endpoint and every answer,
with every secret and token masked (README, "test-token").

Two masks apply: by name (the Authorization header, credential-named fields
at any depth of a JSON or form body, cookies), and by value (every secret the
request sent and every token the answers held: the outcome's redactor), the
latter over the whole text before it is cut to length.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from astra_auth.diagnosis.diagnose import Diagnosis
from astra_auth.net.transport import environment_proxy, proxy_for
from astra_auth.oauth.grant import Exchange
from astra_auth.oauth.token_response import (
    JSON_TOKEN_FIELD,
    TOKEN_KEY,
    RawResponse,
    json_value,
)
from astra_auth.text.redact import MASK, Redactor
from astra_auth.text.safetext import clean

if TYPE_CHECKING:
    from astra_auth.deps import Deps

SHOWN_BODY = 4096  # how much of a body is shown
SENSITIVE_HEADERS = ("set-cookie", "authorization", "proxy-authorization", "cookie")
_FORM_FIELD = re.compile(r"(^|&)([^=&\s]{1,40})=([^&\s]*)", re.MULTILINE)


def print_verbose(d: Diagnosis, deps: Deps) -> None:
    from rich.markup import escape

    err = deps.io.err
    o = d.target.oauth2
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
    if d.outcome is None:
        return
    redactor = d.outcome.redactor
    for number, exchange in enumerate(d.outcome.exchanges, start=1):
        err.print(f"[bold]── request {number} (client auth {exchange.client_auth}) ──[/bold]")
        for line in request_lines(exchange, redactor):
            err.print(escape(clean(line)), soft_wrap=True)
        err.print(f"[bold]── response {number} ──[/bold]")
        for line in response_lines(exchange, redactor):
            err.print(escape(clean(line)), soft_wrap=True)


def request_lines(exchange: Exchange, redactor: Redactor) -> list[str]:
    lines = [f"POST {exchange.url}"]
    if exchange.headers is None or exchange.form is None:
        return lines  # never built
    for name, value in exchange.headers.items():
        if name.lower() == "authorization":
            value = value.split(" ", 1)[0] + " " + MASK
        lines.append(f"{name}: {value}")
    lines.append("Content-Type: application/x-www-form-urlencoded")
    shown = "&".join(
        f"{k}=" + (MASK if TOKEN_KEY.fullmatch(k) else quote_plus(v, safe=""))
        for k, v in exchange.form.items()
    )
    lines.append("")
    lines.append(redactor.redact(shown))
    return lines


def response_lines(exchange: Exchange, redactor: Redactor) -> list[str]:
    if exchange.response is not None:
        return answer_lines(exchange.response, redactor)
    failure = exchange.failure
    assert failure is not None  # no answer, and why
    if not exchange.sent:
        return [f"(not sent: {failure.message})"]
    return [f"(no answer: {failure.category}: {failure.message})"]


def answer_lines(raw: RawResponse, redactor: Redactor) -> list[str]:
    """The answer: credential-named fields masked by name at any depth (JSON
    and form bodies), every known secret and token masked by value in the
    whole body, and only then cut to SHOWN_BODY."""
    lines = [f"HTTP {redactor.cut(f'{raw.status} {raw.reason}', 200)}"]
    for name, value in raw.headers:
        shown = MASK if name.lower() in SENSITIVE_HEADERS else value
        lines.append(redactor.cut(f"{name}: {shown}", 500))
    lines.append("")
    text = raw.body.decode("utf-8", errors="replace")
    data = json_value(text) if not raw.truncated else None
    if isinstance(data, dict | list):
        text = json.dumps(_mask_by_key(data), indent=2, ensure_ascii=False)
    else:
        text = JSON_TOKEN_FIELD.sub(
            lambda m: m.group() if not TOKEN_KEY.fullmatch(m.group(1))
            else m.group()[: m.start(2) - m.start()] + MASK, text)
        text = _FORM_FIELD.sub(
            lambda m: m.group() if not TOKEN_KEY.fullmatch(m.group(2))
            else f"{m.group(1)}{m.group(2)}={MASK}", text)
    lines.append(redactor.cut(text, SHOWN_BODY))
    if len(raw.body) > SHOWN_BODY or raw.truncated:
        lines.append(f"… ({len(raw.body)} bytes read{', cut off at 1 MiB' if raw.truncated else ''})")
    if raw.broken:
        lines.append(f"(connection broke: {raw.broken})")
    if raw.undecodable:
        lines.append(f"({raw.undecodable})")
    return lines


def _mask_by_key(data: Any, depth: int = 0) -> Any:
    if depth > 64:
        return MASK
    if isinstance(data, dict):
        return {k: (MASK if isinstance(k, str) and TOKEN_KEY.fullmatch(k)
                    and isinstance(v, str) else _mask_by_key(v, depth + 1))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_mask_by_key(item, depth + 1) for item in data]
    return data
