"""`astra-auth login`: device code and authorization code, then
unattended renewal from the stored refresh token.

Against panva's oidc-provider (tests/oidc/login.mjs): a test "user" approves
through the provider's own pages over HTTP (user code entered, login form
filled in, consent given); for the authorization code, the test follows the
authorization URL to astra-auth's loopback listener.  Nothing is faked inside
astra-auth: only its sleep, browser opener and monotonic clock are injected.
What the provider cannot be made to send quickly (slow_down, expired_token)
comes from a small device endpoint of this file's own.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import OIDC_SECRET, node_script, require, strip_ansi
from tests.fakes import Clock, ScriptedPrompter, Step, new_target, oauth2_walkthrough

ANY_PASSWORD = "any-login-pw"  # devInteractions takes any login and password


# ---------------------------------------------------------------------------
# The provider


@dataclass
class LoginProvider:
    issuer: str

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    @property
    def device_url(self) -> str:
        return f"{self.issuer}/device/auth"

    @property
    def authorization_url(self) -> str:
        return f"{self.issuer}/auth"

    def revoke(self, client_id: str, token: str) -> None:
        response = httpx.post(f"{self.issuer}/token/revocation", data={"token": token},
                              headers=_basic(client_id), timeout=10)
        assert response.status_code == 200, response.text

    def refresh(self, client_id: str, token: str) -> httpx.Response:
        return httpx.post(self.token_url, data={"grant_type": "refresh_token",
                                                "refresh_token": token},
                          headers=_basic(client_id), timeout=10)


def _basic(client_id: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: ID and secret form-encoded before Base64 (httpx's auth does not)."""
    import base64
    from urllib.parse import quote_plus

    pair = f"{quote_plus(client_id)}:{quote_plus(OIDC_SECRET)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


@pytest.fixture(scope="module")
def _login_process() -> Iterator[LoginProvider | str]:
    with node_script("login.mjs", {"OIDC_CLIENT_SECRET": OIDC_SECRET}) as started:
        yield started if isinstance(started, str) else LoginProvider(started[0])


@pytest.fixture
def op(_login_process: LoginProvider | str, leaks) -> LoginProvider:  # type: ignore[no-untyped-def]
    provider = require(_login_process, "the real OpenID provider")
    leaks.watch(OIDC_SECRET)
    return provider


# ---------------------------------------------------------------------------
# The user at the browser


class Browser:
    """A person in a browser: follows redirects, fills in devInteractions' login
    form and consent page, keeps the provider's cookies."""

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=10)
        self.pages: list[str] = []

    def go(self, url: str, *, data: dict[str, str] | None = None,
           stop_at: str | None = None) -> httpx.Response | str:
        """Follow redirects from `url`; a redirect to `stop_at` is returned, not followed."""
        method = "POST" if data is not None else "GET"
        for _ in range(20):
            response = self.client.request(method, url, data=data)
            if not response.is_redirect:
                self.pages.append(response.text)
                return response
            url = urljoin(url, response.headers["location"])
            method, data = "GET", None
            if stop_at is not None and url.startswith(stop_at):
                return url
        raise AssertionError("too many redirects")

    def interact(self, page: httpx.Response | str, *, consent: bool = True,
                 stop_at: str | None = None) -> httpx.Response | str:
        """Sign in and consent on the provider's pages until they are done."""
        for _ in range(6):
            if isinstance(page, str):
                return page
            html = page.text
            action = _form_action(html)
            if 'name="prompt" value="login"' in html:
                page = self.go(urljoin(str(page.url), action), stop_at=stop_at,
                               data={"prompt": "login", "login": "alice",
                                     "password": ANY_PASSWORD})
            elif 'name="prompt" value="consent"' in html:
                if not consent:
                    cancel = re.search(r'href="([^"]*/abort)"', html)
                    assert cancel, html
                    page = self.go(urljoin(str(page.url), cancel.group(1)), stop_at=stop_at)
                else:
                    page = self.go(urljoin(str(page.url), action), stop_at=stop_at,
                                   data={"prompt": "consent"})
            else:
                return page
        raise AssertionError("the provider's pages did not end")

    def approve_device(self, verification_uri: str, user_code: str, *,
                       approve: bool = True) -> httpx.Response | str:
        """RFC 8628 §3.3 as a user does it: open the URL, enter the code, confirm."""
        page = self.go(verification_uri)
        assert isinstance(page, httpx.Response)
        page = self.go(urljoin(verification_uri, _form_action(page.text)),
                       data={"xsrf": _xsrf(page.text), "user_code": user_code})
        assert isinstance(page, httpx.Response) and "op.deviceConfirmForm" in page.text, page
        answer = {"xsrf": _xsrf(page.text), "user_code": user_code}
        answer.update({"confirm": "yes"} if approve else {"abort": "yes"})
        page = self.go(urljoin(verification_uri, _form_action(page.text)), data=answer)
        return self.interact(page)


def _form_action(html: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else ""


def _xsrf(html: str) -> str:
    match = re.search(r'name="xsrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


class Tee(io.StringIO):
    """stderr that the test can read while the command still runs."""

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        return super().write(text)

    def isatty(self) -> bool:
        return False


@dataclass
class DeviceUser:
    """The injected sleep of the device flow: on the first wait, the user reads
    the code from the terminal and approves (or declines) in the browser."""

    tee: Tee
    approve: bool = True
    sleeps: list[float] = field(default_factory=list)
    browser: Browser = field(default_factory=Browser)

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) == 1:
            uri, code = shown_code(self.tee.getvalue())
            self.browser.approve_device(uri, code, approve=self.approve)


def shown_code(text: str) -> tuple[str, str]:
    text = strip_ansi(text)
    uri = re.search(r"Open\s+(http\S+)", text)
    code = re.search(r"Enter the code\s+([A-Z0-9-]+)", text)
    assert uri and code, text
    return uri.group(1), code.group(1)


@dataclass
class WebUser:
    """The injected browser opener of the authorization-code flow: a thread
    follows the URL through the provider's pages to the loopback redirect."""

    consent: bool = True
    wrong_state_first: bool = False
    # RFC 9207: what the redirect's `iss` becomes on the way back (None: as
    # the provider sent it; "": removed), as a mix-up attack would have it.
    iss: str | None = None
    landed: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    answers: list[httpx.Response] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    thread: threading.Thread | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self.thread.start()
        return True

    def _run(self, url: str) -> None:
        try:
            redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
            if self.wrong_state_first:
                self.answers.append(httpx.get(redirect_uri + "?code=forged-code-0001"
                                              "&state=not-the-state", timeout=10))
            browser = Browser()
            landed = browser.interact(browser.go(url, stop_at=redirect_uri),
                                      consent=self.consent, stop_at=redirect_uri)
            assert isinstance(landed, str), "the provider never sent the browser back"
            self.landed.append(landed)
            if self.iss is not None:
                parts = urlsplit(landed)
                query = [(k, v) for k, v in parse_qsl(parts.query) if k != "iss"]
                if self.iss:
                    query.append(("iss", self.iss))
                landed = urlunsplit(parts._replace(query=urlencode(query)))
            self.answers.append(httpx.get(landed, timeout=10))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(20)
        assert not self.errors, self.errors


# ---------------------------------------------------------------------------
# Setting targets up


def configure_device(cli, op, name="api", client="login-device", extra=()):  # type: ignore[no-untyped-def]
    cli("configure", name, "--grant-type", "device_code", "--token-url", op.token_url,
        "--device-authorization-url", op.device_url, "--client-id", client,
        "--scope", "openid", "--client-secret-stdin", *extra, stdin=OIDC_SECRET + "\n")


def configure_web(cli, op, name="web", client="login-web-rotate"):  # type: ignore[no-untyped-def]
    cli("configure", name, "--grant-type", "authorization_code", "--token-url", op.token_url,
        "--authorization-url", op.authorization_url, "--client-id", client,
        "--scope", "openid", "--client-secret-stdin", stdin=OIDC_SECRET + "\n")


def device_login(cli, store, name="api", approve=True, expect=0, **kw):  # type: ignore[no-untyped-def]
    tee = Tee()
    user = DeviceUser(tee, approve=approve)
    result = cli("login", name, expect=expect, stderr=tee, sleep=user, **kw)
    return result, user, tee.getvalue()


def watch_tokens(leaks, store, name):  # type: ignore[no-untyped-def]
    """Every token astra-auth holds must stay out of every output."""
    refresh = store.data.get(f"{name}:refresh_token")
    cached = store.data.get(f"{name}:token")
    leaks.watch(refresh or "")
    if cached:
        leaks.watch(json.loads(cached)["access_token"])
    return refresh


# ---------------------------------------------------------------------------
# Device code


def test_device_login_shows_the_code_and_stores_only_the_refresh_token(cli, op, store, leaks):
    configure_device(cli, op)
    result, user, shown = device_login(cli, store)
    text = strip_ansi(shown)
    uri, code = shown_code(text)
    assert uri == f"{op.issuer}/device"
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", code)
    assert f"{op.issuer}/device?user_code={code}" in text  # verification_uri_complete
    assert "Logged in: api has a fresh access token." in result.err
    assert user.sleeps == [5]  # RFC 8628 §3.2: the default interval, then approval
    refresh = watch_tokens(leaks, store, "api")
    assert refresh
    # The access-token cache does not hold it too: one place, its own entry.
    assert json.loads(store.data["api:token"])["refresh_token"] is None
    # The refresh token works at the provider: it is the one it issued.
    assert op.refresh("login-device", refresh).status_code == 200


def test_token_after_device_login_is_the_cached_one_then_renews_from_the_refresh_token(
        cli, op, store, leaks):
    configure_device(cli, op)
    clock = Clock()
    device_login(cli, store, clock=clock)
    watch_tokens(leaks, store, "api")
    first = cli("token", "api", token_on_stdout=True, clock=clock).out.strip()
    assert first == json.loads(store.data["api:token"])["access_token"]
    clock.advance(3600)  # the access token has expired
    second = cli("token", "api", token_on_stdout=True, clock=clock).out.strip()
    assert second != first
    leaks.watch(second)


def test_declined_device_login_is_access_denied_and_stores_nothing(cli, op, store):
    configure_device(cli, op)
    result, _, _ = device_login(cli, store, approve=False, expect=4)
    assert "access_denied" in result.err
    assert "astra-auth login api again and approve the request" in result.err
    assert "api:refresh_token" not in store.data and "api:token" not in store.data


def test_ctrl_c_while_waiting_stores_nothing(cli, op, store):
    configure_device(cli, op)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    result = cli("login", "api", expect=130, sleep=interrupted)
    assert "Aborted; nothing was changed." in result.err
    assert "api:refresh_token" not in store.data and "api:token" not in store.data


def test_revoked_refresh_token_is_login_required_with_the_login_command(cli, op, store, leaks):
    configure_device(cli, op)
    clock = Clock()
    device_login(cli, store, clock=clock)
    refresh = watch_tokens(leaks, store, "api")
    op.revoke("login-device", refresh)
    clock.advance(3600)
    result = cli("token", "api", expect=4, clock=clock)
    assert "login_required" in result.err
    assert "invalid_grant" in result.err
    assert "astra-auth login api" in result.err


def test_no_login_yet_is_login_required(cli, op):
    configure_device(cli, op)
    result = cli("token", "api", expect=4)
    assert "login_required: No refresh token for api: nobody has logged in on this machine " \
        "yet (keyring entry 'api:refresh_token' is empty)." in result.err
    assert "astra-auth login api" in result.err


def test_rotation_stores_the_new_refresh_token(cli, op, store, leaks):
    configure_device(cli, op, client="login-device-rotate")
    clock = Clock()
    device_login(cli, store, clock=clock)
    first = watch_tokens(leaks, store, "api")
    clock.advance(3600)
    cli("token", "api", token_on_stdout=True, clock=clock)
    second = watch_tokens(leaks, store, "api")
    assert second and second != first
    # The stored one is the provider's current one; the old one is void (and
    # using it makes oidc-provider revoke the whole grant, RFC 9700 §4.14.2).
    answer = op.refresh("login-device-rotate", second)
    assert answer.status_code == 200
    leaks.watch(answer.json()["refresh_token"], answer.json()["access_token"])
    assert op.refresh("login-device-rotate", first).status_code == 400


def test_test_token_refreshes_and_reports_it(cli, op, store, leaks):
    configure_device(cli, op, client="login-device-rotate")
    device_login(cli, store)
    first = watch_tokens(leaks, store, "api")
    result = cli("test-token", "api", "--json", "--no-probe")
    data = json.loads(result.out)
    assert data["ok"] is True and data["grant_type"] == "device_code"
    assert data["refresh_token_issued"] is True  # rotated
    assert data["refresh_token_expires_in"] is None  # oidc-provider does not say
    second = watch_tokens(leaks, store, "api")
    assert second != first
    panel = cli("test-token", "api", "--no-probe").out
    assert "used to renew; the provider rotated it, the new one is stored; the provider " \
        "does not say when it expires" in panel
    watch_tokens(leaks, store, "api")


def test_login_refuses_a_grant_without_one(cli, idp):
    cli("configure", "cc", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--client-secret-stdin", stdin="x-client-secret-1\n")
    result = cli("login", "cc", expect=2)
    assert "target 'cc' uses the Client Credentials grant, which needs no login" in result.err
    assert "astra-auth configure cc --grant-type device_code" in result.err


# ---------------------------------------------------------------------------
# Authorization code + PKCE


def test_authorization_code_login_through_the_loopback_redirect(cli, op, store, leaks):
    configure_web(cli, op)
    user = WebUser()
    result = cli("login", "web", open_browser=user)
    user.join()
    url = user.opened[0]
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43 and len(query["state"][0]) >= 32
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", query["redirect_uri"][0])
    assert user.answers[-1].status_code == 200
    assert ("You are logged in to astra-auth. You can close this tab and return to the "
            "terminal.") in user.answers[-1].text
    assert "Logged in: web has a fresh access token." in result.err
    refresh = watch_tokens(leaks, store, "web")
    assert refresh
    # The listener is closed.
    port = int(urlsplit(query["redirect_uri"][0]).port or 0)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_answer_must_come_from_the_providers_own_issuer(cli, op, store, leaks):
    # RFC 9207 against a real provider: oidc-provider names itself in `iss`
    # and says so in its metadata; the login compares the two.
    configure_web(cli, op)
    user = WebUser()
    cli("login", "web", open_browser=user, metadata_lookup="network")
    user.join()
    assert parse_qs(urlsplit(user.landed[0]).query)["iss"] == [op.issuer]
    assert watch_tokens(leaks, store, "web")


@pytest.mark.parametrize(("iss", "message"), [
    ("https://idp.elsewhere.example", "The browser came back from another authorization "
     "server (https://idp.elsewhere.example) than this target's ({issuer}); RFC 9207 says to "
     "refuse it: its code was not used."),
    ("", "The browser came back without the `iss` parameter that the provider's metadata "
     "promises (RFC 9207), so the answer may not be from {issuer}: its code was not used."),
])
def test_an_answer_from_another_issuer_is_refused_and_its_code_unused(cli, op, store, iss,
                                                                      message):
    configure_web(cli, op, name="mixed")
    user = WebUser(iss=iss)
    result = cli("login", "mixed", open_browser=user, metadata_lookup="network", expect=4)
    user.join()
    assert message.format(issuer=op.issuer) in " ".join(result.err.split())
    assert "astra-auth login mixed" in result.err
    assert store.data.get("mixed:refresh_token") is None


def test_a_redirect_with_a_wrong_state_is_ignored(cli, op, store, leaks):
    configure_web(cli, op)
    user = WebUser(wrong_state_first=True)
    result = cli("login", "web", open_browser=user)
    user.join()
    forged, real = user.answers
    assert forged.status_code == 400 and "does not belong to the login" in forged.text
    assert real.status_code == 200
    assert "A redirect with a wrong state reached the listener and was ignored." in result.err
    assert "Logged in: web" in result.err
    watch_tokens(leaks, store, "web")


def test_declined_consent_is_access_denied(cli, op, store):
    configure_web(cli, op)
    user = WebUser(consent=False)
    result = cli("login", "web", open_browser=user, expect=4)
    user.join()
    assert "access_denied" in result.err
    assert "web:refresh_token" not in store.data


def test_without_a_browser_the_url_is_printed(cli, op, store, leaks):
    configure_web(cli, op)
    printed: list[str] = []

    class NoBrowser(WebUser):
        def __call__(self, url: str) -> bool:
            printed.append(url)
            super().__call__(url)  # the person copies the URL by hand
            return False

    user = NoBrowser()
    result = cli("login", "web", open_browser=user)
    user.join()
    assert "Open this URL in a browser on this machine to log in:" in result.err
    assert printed[0] in result.err.replace("\n", "")
    watch_tokens(leaks, store, "web")


def test_port_in_use_is_a_usage_error(cli, op):
    configure_web(cli, op)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("login", "web", "--port", str(port), expect=2,
                     open_browser=lambda url: True)
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.err


def test_port_is_for_the_authorization_code_grant_only(cli, op):
    configure_device(cli, op)
    result = cli("login", "api", "--port", "8765", expect=2)
    assert "--port is for the authorization_code grant only" in result.err


# ---------------------------------------------------------------------------
# slow_down and expiry, from a device endpoint of this file's own


FAULT_ACCESS = "at-Fq83kZr0WmXv"
FAULT_REFRESH = "rt-Lm29xQvB7tHp"


class DeviceFaults:
    """A device authorization endpoint and a token endpoint that answer from a script."""

    def __init__(self, script: list[dict[str, object]], expires_in: int = 600,
                 interval: int = 1) -> None:
        self.script = list(script)
        self.polls = 0
        self.api_headers: list[str] = []  # GET: an API that records what it was sent
        faults = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                faults.api_headers.append(self.headers.get("Authorization", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/device":
                    body: dict[str, object] = {
                        "device_code": "dc-faults-0001", "user_code": "WDJB-MJHT",
                        "verification_uri": faults.url + "/verify",
                        "expires_in": expires_in, "interval": interval}
                    status = 200
                else:
                    faults.polls += 1
                    body = faults.script.pop(0) if faults.script else {
                        "error": "authorization_pending"}
                    # {"_status": 503}: an answer without an OAuth body.
                    status = int(str(body.pop("_status", 400 if "error" in body else 200)))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faults_factory(leaks) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    made: list[DeviceFaults] = []
    leaks.watch(FAULT_ACCESS, FAULT_REFRESH)

    def make(script: list[dict[str, object]], **kw: int) -> DeviceFaults:
        server = DeviceFaults(script, **kw)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def configure_faults(cli, server):  # type: ignore[no-untyped-def]
    cli("configure", "api", "--grant-type", "device_code", "--token-url", server.url + "/token",
        "--device-authorization-url", server.url + "/device", "--client-id", "dev-client",
        "--client-secret-stdin", stdin="x-client-secret-1\n")


def test_slow_down_adds_five_seconds_for_good(cli, store, faults_factory):
    server = faults_factory([{"error": "slow_down"}, {"error": "authorization_pending"},
                             {"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600, "refresh_token": FAULT_REFRESH}])
    configure_faults(cli, server)
    sleeps: list[float] = []
    result = cli("login", "api", sleep=sleeps.append)
    assert sleeps == [1, 6, 6]
    assert "The provider asked to poll more slowly: every 6 seconds now." in result.err
    assert store.data["api:refresh_token"] == FAULT_REFRESH


def test_a_5xx_and_a_429_while_polling_are_waited_out_with_back_off(cli, store,
                                                                    faults_factory):
    # RFC 8628 §3.5: the user may be half-way through approving; keep polling, slower.
    server = faults_factory([{"_status": 503}, {"_status": 429},
                             {"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600, "refresh_token": FAULT_REFRESH}])
    configure_faults(cli, server)
    sleeps: list[float] = []
    result = cli("login", "api", sleep=sleeps.append)
    assert sleeps == [1, 2, 4]
    assert ("The token endpoint did not answer usefully (server_error); polling again every "
            "2 seconds while the code is valid.") in " ".join(result.err.split())
    assert "(rate_limited); polling again every 4 seconds" in " ".join(result.err.split())
    assert store.data["api:refresh_token"] == FAULT_REFRESH


def test_expired_token_from_the_provider_is_login_timeout(cli, store, faults_factory):
    server = faults_factory([{"error": "authorization_pending"}, {"error": "expired_token"}])
    configure_faults(cli, server)
    result = cli("login", "api", expect=4, sleep=lambda s: None)
    assert "login_timeout" in result.err
    assert "astra-auth login api again and finish it in the browser" in result.err
    assert "api:refresh_token" not in store.data


def test_the_code_expiring_here_ends_the_polling(cli, store, faults_factory):
    server = faults_factory([], expires_in=10, interval=5)
    configure_faults(cli, server)
    clock = Clock(1000.0)

    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    result = cli("login", "api", expect=4, sleep=sleep, monotonic=clock)
    assert server.polls == 2  # at 5 s and 10 s; a third wait would pass the expiry
    assert "login_timeout: The code expired before the login was finished" in result.err


def test_no_refresh_token_issued_warns(cli, store, faults_factory):
    server = faults_factory([{"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600}])
    configure_faults(cli, server)
    result = cli("login", "api", sleep=lambda s: None)
    assert "The provider issued no refresh token" in result.err
    assert "astra-auth configure api --scope 'openid offline_access'" in result.err
    assert "api:refresh_token" not in store.data


# ---------------------------------------------------------------------------
# Two processes renewing at once, the real keyring between them


@pytest.mark.slow
@pytest.mark.keyring
def test_two_processes_renewing_at_once_keep_the_last_rotated_refresh_token(
        cli, op, proc, real_keyring, leaks):
    from astra_auth.storage.secretstore import KeyringStore

    name = real_keyring.name("rot")
    keyring_store = KeyringStore(10.0)
    cli("configure", name, "--grant-type", "device_code", "--token-url", op.token_url,
        "--device-authorization-url", op.device_url, "--client-id", "login-device-rotate",
        "--scope", "openid", "--client-secret-stdin", stdin=OIDC_SECRET + "\n",
        secrets=keyring_store)
    tee = Tee()
    cli("login", name, stderr=tee, sleep=DeviceUser(tee), secrets=keyring_store)
    first = real_keyring.get(f"{name}:refresh_token")
    assert first
    leaks.watch(first)
    env = {"XDG_CONFIG_HOME": str(cli.config_path.parent.parent)}
    children = [subprocess.Popen([sys.executable, "-m", "astra_auth", "token", name,
                                  "--no-cache"], env=dict(proc.env, **env),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [child.communicate(timeout=60) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        leaks.record("stderr of a renewing process", err)
        assert child.returncode == 0, err
        leaks.watch(out.strip())
    # Both renewed (no cache), one after the other under the lock: two rotations.
    assert outputs[0][0] != outputs[1][0]
    last = real_keyring.get(f"{name}:refresh_token")
    assert last and last != first
    leaks.watch(last)
    # With the cache, processes renewing at once share one renewal: the first
    # refreshes under the lock, the others find its token.
    keyring_store.delete(f"{name}:token")
    children = [subprocess.Popen([sys.executable, "-m", "astra_auth", "token", name],
                                 env=dict(proc.env, **env), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
    shared = [child.communicate(timeout=60) for child in children]
    for child, (out, err) in zip(children, shared, strict=True):
        leaks.record("stderr of a renewing process", err)
        assert child.returncode == 0, err
        leaks.watch(out.strip())
    assert len({out for out, _ in shared}) == 1
    after_shared = real_keyring.get(f"{name}:refresh_token")
    assert after_shared and after_shared != last
    leaks.watch(after_shared)
    last = after_shared
    # The stored one is the last issued: the provider still takes it (had a
    # process stored an older one, the provider would refuse it as reused).
    answer = op.refresh("login-device-rotate", last)
    assert answer.status_code == 200, answer.text
    leaks.watch(answer.json()["refresh_token"], answer.json()["access_token"])


# ---------------------------------------------------------------------------
# configure: the two grants, discovery, and login offered after saving


def test_flags_read_the_login_endpoints_from_discovery(cli, op):
    result = cli("configure", "d", "--grant-type", "device_code", "--issuer", op.issuer,
                 "--client-id", "login-device", "--client-secret-stdin",
                 stdin=OIDC_SECRET + "\n", metadata_lookup="network")
    assert "Next, log in once (renewal is unattended afterwards): astra-auth login d" in result.err
    cli("configure", "w", "--grant-type", "authorization_code", "--issuer", op.issuer,
        "--client-id", "login-web-rotate", "--client-secret-stdin",
        stdin=OIDC_SECRET + "\n", metadata_lookup="network")
    text = cli.config_path.read_text()
    assert f'device_authorization_url = "{op.issuer}/device/auth"' in text
    assert f'authorization_url = "{op.issuer}/auth"' in text


def test_flags_without_the_endpoint_or_discovery_name_the_flag(cli, idp):
    result = cli("configure", "d", "--grant-type", "device_code", "--token-url", idp.token_url,
                 "--client-id", "x", "--client-secret-stdin", stdin="x-client-secret-1\n",
                 expect=2)
    assert "--device-authorization-url is required for the device_code grant" in result.err


def test_login_url_flag_of_the_other_grant_is_refused(cli, op):
    result = cli("configure", "d", "--grant-type", "device_code", "--token-url", op.token_url,
                 "--authorization-url", op.authorization_url, "--client-id", "x",
                 "--client-secret-stdin", stdin="x-client-secret-1\n", expect=2)
    assert "--authorization-url: only the authorization_code grant has one" in result.err


class ChoicesSeen(ScriptedPrompter):
    """The scripted prompter, also keeping each list's lines as shown."""

    def __init__(self, steps: list[Step]) -> None:
        super().__init__(steps)
        self.lines: list[str] = []

    def select(self, message, choices, default=0, note=""):  # type: ignore[no-untyped-def]
        self.lines += [f"{c.label} — {c.help}" for c in choices] + [note]
        return super().select(message, choices, default, note)


def test_walkthrough_device_code_then_login_right_after_saving(cli, op, store, leaks):
    tee = Tee()
    prompter = ChoicesSeen([
        *new_target("dev", url=""),
        Step("select", "Authentication type", 0),
        Step("select", "Grant type", 2),
        Step("select", "Access Token URL", 1),  # I only know my issuer URL
        Step("text", "Issuer URL", op.issuer),
        Step("confirm", "Use it as the Access Token URL?", True),
        Step("text", "Device Authorization URL", ""),  # Enter: the discovered one
        Step("text", "Client ID", "login-device"),
        Step("select", "Client authentication", 0),
        Step("secret", "Client secret", OIDC_SECRET),
        Step("text", "Scope", "openid"),
        Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save these settings?", True),
        Step("confirm", "Log in now?", True),
        Step("confirm", "Run test-token now", False),
    ])
    result = cli("configure", prompter=prompter, tty=True, stderr=tee, sleep=DeviceUser(tee),
                 metadata_lookup="network")
    assert "Device Code — one user logs in once, in any browser; MFA works" in prompter.lines
    assert ("Device Code and Authorization Code keep only a refresh token, not a password."
            in prompter.lines)
    assert f"Device Authorization URL from the provider's discovery document: " \
        f"{op.issuer}/device/auth" in result.err
    assert "Logged in: dev has a fresh access token." in result.err
    watch_tokens(leaks, store, "dev")


def test_walkthrough_authorization_code(cli, op, store, leaks):
    user = WebUser()
    prompter = ChoicesSeen([
        *oauth2_walkthrough("web", url="", grant="authorization_code", token_url=op.token_url,
                     authorization_url=op.authorization_url, client_id="login-web-rotate",
                     secret=OIDC_SECRET, scope="openid"),
        Step("confirm", "Save these settings?", True),
        Step("confirm", "Log in now?", True),
        Step("confirm", "Run test-token now", False),
    ])
    result = cli("configure", prompter=prompter, tty=True, open_browser=user)
    user.join()
    assert "Authorization Code — one user logs in once, in this machine's browser" in prompter.lines
    assert "Logged in: web has a fresh access token." in result.err
    watch_tokens(leaks, store, "web")


def test_walkthrough_password_grant_says_why_device_code_is_safer(cli, idp):
    prompter = ScriptedPrompter([
        *oauth2_walkthrough("pw", url="", grant="password", token_url=idp.token_url,
                     secret="x-client-secret-1", username="john.doe",
                     password="x-password-value-1"),
        Step("confirm", "Save these settings?", False),
        Step("select", "Change a setting, or discard everything?", 1),
    ])
    result = cli("configure", prompter=prompter, tty=True)
    assert ("Where the provider allows it, Device Code is the safer choice: the user logs in "
            "at the provider (MFA included) and astra-auth never holds the password, only a "
            "refresh token.") in result.err


# ---------------------------------------------------------------------------
# login at a real terminal


@pytest.mark.slow
@pytest.mark.keyring
def test_device_login_at_a_real_terminal(op, proc, real_keyring, leaks):
    from tests.test_pty import Terminal

    name = real_keyring.name("pty")
    proc("configure", name, "--grant-type", "device_code", "--token-url", op.token_url,
         "--device-authorization-url", op.device_url, "--client-id", "login-device",
         "--scope", "openid", "--client-secret-stdin", input=OIDC_SECRET + "\n")
    term = Terminal(proc, "login", name)
    # Styles (bold, reverse) may sit between the words and the code.
    term.child.expect(r"Enter the code\s+(?:\x1b\[[0-9;]*m)*([A-Z]{4}-[A-Z]{4})")
    code = term.child.match.group(1)
    Browser().approve_device(f"{op.issuer}/device", code)
    term.child.expect_exact("Logged in:", timeout=30)  # after one real 5-second wait
    assert term.finish() == 0
    refresh = real_keyring.get(f"{name}:refresh_token")
    assert refresh
    leaks.watch(refresh)


# ---------------------------------------------------------------------------
# test-token on a login grant: one refresh, and the refresh token's own expiry


def test_test_token_says_when_the_refresh_token_expires(cli, store, faults_factory, leaks):
    rotated = "rt-Vn58wKc1YeQs"
    leaks.watch(rotated)
    server = faults_factory([
        {"access_token": FAULT_ACCESS, "token_type": "Bearer", "expires_in": 600,
         "refresh_token": FAULT_REFRESH},
        {"access_token": "at-Jd40pRt6UcNo", "token_type": "Bearer", "expires_in": 600,
         "refresh_token": rotated, "refresh_token_expires_in": 7776000},
    ])
    leaks.watch("at-Jd40pRt6UcNo")
    configure_faults(cli, server)
    cli("login", "api", sleep=lambda s: None)
    data = json.loads(cli("test-token", "api", "--json", "--no-probe").out)
    assert data["ok"] is True and data["refresh_token_expires_in"] == 7776000
    assert store.data["api:refresh_token"] == rotated


def test_test_token_panel_names_the_refresh_token_expiry(cli, store, faults_factory, leaks):
    server = faults_factory([
        {"access_token": FAULT_ACCESS, "token_type": "Bearer", "expires_in": 600,
         "refresh_token": FAULT_REFRESH},
        {"access_token": "at-Jd40pRt6UcNo", "token_type": "Bearer", "expires_in": 600,
         "refresh_expires_in": 1800},
    ])
    leaks.watch("at-Jd40pRt6UcNo")
    configure_faults(cli, server)
    cli("login", "api", sleep=lambda s: None)
    panel = cli("test-token", "api", "--no-probe").out
    assert "used to renew; still valid (not rotated); it expires in 1800 s, then log in " \
        "again" in " ".join(panel.split())
    assert store.data["api:refresh_token"] == FAULT_REFRESH


def test_test_token_without_a_login_is_login_required(cli, faults_factory):
    server = faults_factory([])
    configure_faults(cli, server)
    data = json.loads(cli("test-token", "api", "--json", "--no-probe", expect=4).out)
    assert data["error"]["category"] == "login_required"
    assert data["hints"][0] == ("Log in once in a browser (MFA included), after which renewal "
                                "is unattended: astra-auth login api")


def test_reconfiguring_drops_the_refresh_token_of_the_old_login(cli, store, faults_factory):
    server = faults_factory([{"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600, "refresh_token": FAULT_REFRESH}])
    configure_faults(cli, server)
    cli("login", "api", sleep=lambda s: None)
    assert store.data["api:refresh_token"] == FAULT_REFRESH
    result = cli("configure", "api", "--client-id", "other-client")
    assert "api:refresh_token" not in store.data
    assert "astra-auth login api" in result.err


def test_username_with_a_login_grant_is_refused(cli, faults_factory):
    server = faults_factory([])
    result = cli("configure", "api", "--grant-type", "device_code", "--token-url",
                 server.url + "/token", "--device-authorization-url", server.url + "/device",
                 "--client-id", "c", "--username", "john", "--client-secret-stdin",
                 stdin="x-client-secret-1\n", expect=2)
    assert "--username: the device_code grant keeps no username or password; the user logs " \
        "in once with: astra-auth login api" in result.err


@pytest.mark.keyring
def test_auth_for_renews_from_the_refresh_token_unattended(cli, op, real_keyring, leaks,
                                                          faults_factory):
    import astra_auth
    from astra_auth.storage.secretstore import KeyringStore

    api = faults_factory([])
    name = real_keyring.name("af")
    keyring_store = KeyringStore(10.0)
    cli("configure", name, "--grant-type", "device_code", "--token-url", op.token_url,
        "--device-authorization-url", op.device_url, "--client-id", "login-device-rotate",
        "--scope", "openid", "--url", api.url, "--client-secret-stdin",
        stdin=OIDC_SECRET + "\n", secrets=keyring_store)
    tee = Tee()
    cli("login", name, stderr=tee, sleep=DeviceUser(tee), secrets=keyring_store)
    first = real_keyring.get(f"{name}:refresh_token")
    login_token = json.loads(real_keyring.get(f"{name}:token") or "{}")["access_token"]
    leaks.watch(first or "", login_token)
    keyring_store.delete(f"{name}:token")  # as if the access token had expired
    with httpx.Client(auth=astra_auth.auth_for(name, config=cli.config_path)) as client:
        assert client.get(api.url + "/things").status_code == 200
    sent = api.api_headers[-1]
    leaks.watch(sent.removeprefix("Bearer "))
    assert sent.startswith("Bearer ") and sent != f"Bearer {login_token}"
    rotated = real_keyring.get(f"{name}:refresh_token")
    assert rotated and rotated != first  # renewed with it, and the rotated one stored
    leaks.watch(rotated)


def test_targets_show_says_whether_someone_logged_in(cli, store, faults_factory):
    server = faults_factory([{"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600, "refresh_token": FAULT_REFRESH}])
    configure_faults(cli, server)
    before = " ".join(cli("targets", "show", "api").out.split())
    assert "Refresh token missing: log in with astra-auth login api" in before
    assert f"Device Authorization URL {server.url}/device" in before
    cli("login", "api", sleep=lambda s: None)
    after = " ".join(cli("targets", "show", "api").out.split())
    assert "Refresh token stored (from astra-auth login)" in after
    data = json.loads(cli("targets", "show", "api", "--json").out)
    assert data["secrets"]["refresh_token"] == "stored"
    assert data["oauth2"]["device_authorization_url"] == server.url + "/device"


def test_ctrl_c_while_the_browser_is_out_closes_the_listener_and_stores_nothing(cli, op, store):
    configure_web(cli, op)
    seen: list[str] = []

    def interrupted(url: str) -> bool:
        seen.append(parse_qs(urlsplit(url).query)["redirect_uri"][0])
        raise KeyboardInterrupt

    result = cli("login", "web", expect=130, open_browser=interrupted)
    assert "Aborted; nothing was changed." in result.err
    assert "web:refresh_token" not in store.data and "web:token" not in store.data
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", urlsplit(seen[0]).port or 0)) != 0


def test_a_silent_connection_does_not_hold_up_the_redirect(cli, op, store, leaks):
    """Browsers open connections speculatively and send nothing on them."""
    configure_web(cli, op)
    silent: list[socket.socket] = []

    class Preconnecting(WebUser):
        def __call__(self, url: str) -> bool:
            port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
            silent.append(socket.create_connection(("127.0.0.1", port or 0)))
            return super().__call__(url)

    user = Preconnecting()
    # Should the listener wait on the silent connection, the browser's request
    # times out (10 s, an error in user.join) before this lets it go on.
    release = threading.Timer(15, lambda: [c.close() for c in silent])
    release.start()
    try:
        result = cli("login", "web", open_browser=user)
    finally:
        release.cancel()
        for connection in silent:
            connection.close()
    user.join()
    assert "Logged in: web" in result.err
    watch_tokens(leaks, store, "web")


# ---------------------------------------------------------------------------
# The proxy: renewal from the refresh token, and login_required as a 502


@pytest.mark.keyring
def test_the_proxy_renews_from_the_refresh_token_and_says_login_required_without_one(
        cli, op, proc, real_keyring, leaks, faults_factory):
    from astra_auth.storage.secretstore import KeyringStore
    from tests.proxies import Proxies

    api = faults_factory([])
    keyring_store = KeyringStore(10.0)
    names = [real_keyring.name("px"), real_keyring.name("px")]
    for name in names:
        cli("configure", name, "--grant-type", "device_code", "--token-url", op.token_url,
            "--device-authorization-url", op.device_url, "--client-id", "login-device-rotate",
            "--scope", "openid", "--url", api.url, "--client-secret-stdin",
            stdin=OIDC_SECRET + "\n", secrets=keyring_store)
    tee = Tee()
    cli("login", names[0], stderr=tee, sleep=DeviceUser(tee), secrets=keyring_store)
    first = real_keyring.get(f"{names[0]}:refresh_token") or ""
    leaks.watch(first, json.loads(real_keyring.get(f"{names[0]}:token") or "{}")["access_token"])
    keyring_store.delete(f"{names[0]}:token")  # as if the access token had expired
    proxies = Proxies(proc, leaks)
    try:
        running = proxies.start(f"{names[0]}=0", f"{names[1]}=0", count=2,
                                env={"ASTRA_AUTH_CLIENT_SECRET": "",
                                     "XDG_CONFIG_HOME": str(cli.config_path.parent.parent)})
        with httpx.Client(trust_env=False, timeout=30) as client:
            logged_in = client.get(running.url(names[0], "/things"))
            not_yet = client.get(running.url(names[1], "/things"))
    finally:
        proxies.close()
    assert logged_in.status_code == 200
    sent = api.api_headers[-1]
    leaks.watch(sent.removeprefix("Bearer "))
    assert sent.startswith("Bearer ")
    rotated = real_keyring.get(f"{names[0]}:refresh_token")
    assert rotated and rotated != first
    leaks.watch(rotated)
    assert not_yet.status_code == 502
    error = not_yet.json()["error"]
    assert error["category"] == "login_required"
    assert error["hint"] == ("Log in once in a browser (MFA included), after which renewal is "
                             f"unattended: astra-auth login {names[1]}")


def test_the_edit_menu_changes_the_device_authorization_url(cli, store, faults_factory):
    server = faults_factory([{"access_token": FAULT_ACCESS, "token_type": "Bearer",
                              "expires_in": 600, "refresh_token": FAULT_REFRESH}])
    configure_faults(cli, server)
    cli("login", "api", sleep=lambda s: None)
    # The menu: API URL, type, grant, token URL, Device Authorization URL (4), ...
    rerun = ScriptedPrompter([
        Step("text", "Target: a number", "api"),
        Step("select", "Which setting?", 4),
        Step("text", "Device Authorization URL", server.url + "/device2"),
        Step("select", "Which setting?", None),
        Step("confirm", "Save these settings?", True),
        Step("confirm", "Log in now?", False),
    ])
    result = cli("configure", tty=True, prompter=rerun)
    assert f'device_authorization_url = "{server.url}/device2"' in cli.config_path.read_text()
    # The old login's refresh token was made for the old settings: gone, and a
    # new login is the next step.
    assert "api:refresh_token" not in store.data
    assert "Next, log in once (renewal is unattended afterwards): astra-auth login api" \
        in result.err


def test_a_public_client_logs_in_and_renews_without_any_secret(cli, op, store, leaks):
    cli("configure", "pub", "--grant-type", "device_code", "--token-url", op.token_url,
        "--device-authorization-url", op.device_url, "--client-id", "login-public-rotate",
        "--client-auth", "none", "--scope", "openid")
    clock = Clock()
    result, _, _ = device_login(cli, store, name="pub", clock=clock)
    assert "Logged in: pub has a fresh access token." in result.err
    first = watch_tokens(leaks, store, "pub")
    assert "pub:client_secret" not in store.data
    clock.advance(3600)
    cli("token", "pub", token_on_stdout=True, clock=clock)
    second = watch_tokens(leaks, store, "pub")
    assert second and second != first  # oidc-provider rotates public clients' tokens


def test_exec_renews_from_the_refresh_token(cli, store, faults_factory, leaks):
    renewed = "at-Wy62nHd8LsKe"
    leaks.watch(renewed)
    server = faults_factory([
        {"access_token": FAULT_ACCESS, "token_type": "Bearer", "expires_in": 600,
         "refresh_token": FAULT_REFRESH},
        {"access_token": renewed, "token_type": "Bearer", "expires_in": 600},
    ])
    configure_faults(cli, server)
    clock = Clock()
    cli("login", "api", sleep=lambda s: None, clock=clock)
    clock.advance(600)  # the login's access token has expired
    check = ("import os, sys; "
             "sys.exit(0 if os.environ['ASTRA_AUTH_TOKEN'] == sys.argv[1] else 3)")
    cli("exec", "api", "--", sys.executable, "-c", check, renewed, clock=clock)
    assert server.polls == 2  # the login's poll, then one refresh
    assert store.data["api:refresh_token"] == FAULT_REFRESH  # not rotated: kept
