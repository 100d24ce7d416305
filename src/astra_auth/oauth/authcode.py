"""The authorization code grant for a native app: `astra-auth login` for
`authorization_code`.

RFC 6749 §4.1 with PKCE S256 (RFC 7636) and the loopback redirect of RFC 8252
§7.3: a one-shot HTTP listener on 127.0.0.1 (a free port, or `--port` where the
client registration names one) receives the browser's redirect, checks
`state`, answers with a short "you can close this tab" page and closes; the
code is then exchanged, with its verifier, at the token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from astra_auth.core.errors import UsageError
from astra_auth.core.failure import Category, Failure
from astra_auth.oauth.grant import Outcome, request_token
from astra_auth.oauth.login import LoginFailed
from astra_auth.oauth.token_request import GrantRequest

if TYPE_CHECKING:
    import httpx

CALLBACK_PATH = "/callback"
# How long the browser has to come back: a login with MFA takes a minute or two.
WAIT_SECONDS = 300.0
POLL_SECONDS = 0.2  # how often the listener looks at the clock (and at Ctrl-C)
# A connection that sends nothing (a browser's speculative preconnect, another
# local process) is dropped after this long, in its own thread: it never holds
# up the redirect that matters.
READ_SECONDS = 10.0


@dataclass
class Pkce:
    """RFC 7636 §4.1, §4.2: a 43-character verifier and its S256 challenge."""

    verifier: str = field(repr=False)

    @classmethod
    def new(cls) -> Pkce:
        return cls(secrets.token_urlsafe(32))  # 32 random bytes: 43 characters

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class _Result:
    code: str | None = field(default=None, repr=False)
    error: str | None = None
    error_description: str | None = None
    iss: str | None = None  # RFC 9207: the authorization server that answered
    refused: int = 0  # redirects whose state did not match, ignored


class Listener:
    """The loopback redirect target: one HTTP server on 127.0.0.1, closed after use."""

    def __init__(self, port: int, state: str,
                 on_refused: Callable[[str], None] | None = None) -> None:
        self.state = state
        self.result = _Result()
        self.done = threading.Event()
        self._settle = threading.Lock()  # the first right answer wins
        self.on_refused = on_refused
        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        except OSError as exc:
            raise UsageError(
                f"--port {port}: cannot listen on 127.0.0.1:{port}: {exc.strerror}",
                hints=["Close what uses that port, or leave --port out to use a free one "
                       "(if the client registration allows any loopback port)."],
            ) from None
        self.server.timeout = POLL_SECONDS
        self.server.daemon_threads = True

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{CALLBACK_PATH}"

    def wait(self, seconds: float, monotonic: Callable[[], float]) -> _Result:
        """Serve until a redirect with the right state arrives or `seconds` pass."""
        until = monotonic() + seconds
        while not self.done.is_set():
            if monotonic() >= until:
                raise LoginFailed(Failure(
                    Category.LOGIN_TIMEOUT,
                    f"The browser did not come back within {seconds:g} seconds."))
            self.server.handle_request()
        return self.result

    def close(self) -> None:
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "astra-auth"
            sys_version = ""
            timeout = READ_SECONDS

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                with listener._settle:
                    self._answer()

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or listener.done.is_set():
                    self._page(404, "Not here", "This is astra-auth's login listener.")
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                state = query.get("state", "")
                if not hmac.compare_digest(state.encode(), listener.state.encode()):
                    # Not the answer to this login (an old tab, or a page that
                    # tries to slip its own code in): ignored, and the login
                    # goes on waiting for the right one.
                    listener.result.refused += 1
                    if listener.on_refused is not None:
                        listener.on_refused("A redirect with a wrong state reached the "
                                            "listener and was ignored.")
                    self._page(400, "Not this login", "This answer does not belong to the "
                               "login astra-auth is waiting for, so it was ignored.")
                    return
                if "iss" in query:
                    # Whole: a cut one could equal the issuer by its first part.
                    listener.result.iss = query["iss"]
                if "error" in query:
                    listener.result.error = query["error"][:200]
                    listener.result.error_description = query.get("error_description",
                                                                  "")[:1000] or None
                    self._page(200, "Login not completed",
                               "The provider did not log you in. You can close this tab "
                               "and return to the terminal.")
                elif query.get("code"):
                    listener.result.code = query["code"]
                    self._page(200, "Logged in", "You are logged in to astra-auth. You can "
                               "close this tab and return to the terminal.")
                else:
                    listener.result.error = "invalid_request"
                    listener.result.error_description = "the redirect carried no code"
                    self._page(400, "No code", "The provider's answer carried no code.")
                listener.done.set()

            def _page(self, status: int, title: str, text: str) -> None:
                body = (f"<!doctype html><html><head><meta charset=\"utf-8\">"
                        f"<title>{html.escape(title)}</title></head><body>"
                        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
                        "</body></html>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                # The request line holds the code: never written anywhere.
                return

        return Handler


def authorization_url(endpoint: str, base: GrantRequest, redirect_uri: str, state: str,
                      pkce: Pkce) -> str:
    """The URL the browser opens (RFC 6749 §4.1.1, RFC 7636 §4.3)."""
    params = {"response_type": "code", "client_id": base.client_id,
              "redirect_uri": redirect_uri, "state": state,
              "code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    if base.scope:
        params["scope"] = base.scope
    if base.audience:
        params["audience"] = base.audience
    separator = "&" if urlsplit(endpoint).query else "?"
    return endpoint + separator + urlencode(params)


def login(base: GrantRequest, endpoint: str, make_client: Callable[[], httpx.Client], *,
          timeout: float, port: int, open_url: Callable[[str, str], None],
          monotonic: Callable[[], float], wait: float = WAIT_SECONDS,
          on_refused: Callable[[str], None] | None = None,
          issuer: str | None = None, iss_required: bool = False) -> Outcome:
    """Listen, send the user to `endpoint`, take the code, exchange it.

    `open_url(url, redirect_uri)` shows or opens the authorization URL.
    `issuer`, when the provider's metadata named it: the answer's `iss` must
    be that (RFC 9207), and must be there at all when `iss_required`.
    Raises LoginFailed; the listener is closed whatever happens (Ctrl-C too)."""
    state = secrets.token_urlsafe(24)
    pkce = Pkce.new()
    listener = Listener(port, state, on_refused)
    try:
        redirect_uri = listener.redirect_uri
        open_url(authorization_url(endpoint, base, redirect_uri, state, pkce), redirect_uri)
        result = listener.wait(wait, monotonic)
    finally:
        listener.close()
    _check_issuer(result, issuer, iss_required)
    if result.error is not None:
        from astra_auth.core.failure import RFC6749_ERRORS

        desc = f" — {result.error_description}" if result.error_description else ""
        if result.error == "access_denied":
            raise LoginFailed(Failure(Category.ACCESS_DENIED, "The login was declined at the "
                                      f"provider (access_denied{desc}).",
                                      oauth_error="access_denied",
                                      oauth_error_description=result.error_description))
        category = (Category(result.error) if result.error in RFC6749_ERRORS
                    else Category.OAUTH_ERROR)
        raise LoginFailed(Failure(category, "The provider sent the browser back with an "
                                  f"error: {result.error}{desc}", oauth_error=result.error,
                                  oauth_error_description=result.error_description))
    assert result.code is not None
    req = replace(base, grant_type="authorization_code", code=result.code,
                  redirect_uri=redirect_uri, code_verifier=pkce.verifier)
    outcome = request_token(req, make_client, timeout=timeout, try_other_client_auth=False,
                            monotonic=monotonic)
    if outcome.failure is not None:
        raise LoginFailed(outcome.failure)
    return outcome


def _check_issuer(result: _Result, issuer: str | None, required: bool) -> None:
    """RFC 9207 §2.4: an answer from another authorization server than the
    one this target uses (a mix-up attack) is refused, its code never used."""
    if issuer is None:
        return  # nothing to compare with: the provider's metadata did not answer
    if result.iss is None:
        if required:
            raise LoginFailed(Failure(
                Category.ISSUER_MISMATCH,
                "The browser came back without the `iss` parameter that the provider's "
                f"metadata promises (RFC 9207), so the answer may not be from {issuer}: "
                "its code was not used.", details={"issuer_mismatch": "missing"}))
        return
    # Exactly the same string (RFC 9207 §2.4): https://idp.example.com.evil is
    # another server, not a longer spelling of https://idp.example.com.
    if not hmac.compare_digest(result.iss.encode(), issuer.encode()):
        shown = result.iss if len(result.iss) <= 200 else result.iss[:200] + "…"
        raise LoginFailed(Failure(
            Category.ISSUER_MISMATCH,
            f"The browser came back from another authorization server ({shown}) than "
            f"this target's ({issuer}); RFC 9207 says to refuse it: its code was not used.",
            details={"issuer_mismatch": "other"}))
