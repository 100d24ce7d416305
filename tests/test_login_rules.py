"""`login`'s rules, each stated on its own: what a redirect must carry, whose
`iss` is accepted, which verification links are shown, how `slow_down` adds up.

These run the protocol modules (oauth/authcode.py, oauth/device.py) directly,
with a browser played by a thread and a provider played by httpx's
MockTransport: each rule is checked without a real provider.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from astra_auth.core.failure import Category
from astra_auth.oauth import authcode, device
from astra_auth.oauth.login import LoginFailed
from astra_auth.oauth.token_request import GrantRequest

ISSUER = "https://idp.example.com"
BASE = GrantRequest(token_url=f"{ISSUER}/oauth/token", grant_type="authorization_code",
                    client_id="web-app", client_secret="", client_auth="none")


def provider(answer: Callable[[httpx.Request], tuple[int, object]]
             ) -> Callable[[], httpx.Client]:
    """A client whose every request `answer` answers with (status, JSON body)."""

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = answer(request)
        return httpx.Response(status, headers={"Content-Type": "application/json"},
                              stream=httpx.ByteStream(json.dumps(body).encode()))

    return lambda: httpx.Client(transport=httpx.MockTransport(handler))


def scripted(script: list[dict[str, object]]) -> Callable[[], httpx.Client]:
    """A token endpoint that answers from `script`, in order (400 for an error)."""
    return provider(lambda request: (400 if "error" in script[0] else 200, script.pop(0)))


def no_client() -> httpx.Client:
    raise AssertionError("the code must not be exchanged")


class Browser:
    """Plays the user's browser: comes back to the redirect URI with `answers`,
    one query each, in order ("STATE" in a value stands for the login's state)."""

    def __init__(self, *answers: dict[str, str]) -> None:
        self.answers = answers
        self.statuses: list[int] = []
        self.thread: threading.Thread | None = None

    def __call__(self, url: str, redirect_uri: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]

        def visit() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                for answer in self.answers:
                    query = {k: v.replace("STATE", state) for k, v in answer.items()}
                    self.statuses.append(
                        client.get(f"{redirect_uri}?{urlencode(query)}").status_code)

        self.thread = threading.Thread(target=visit, daemon=True)
        self.thread.start()

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(10)


def log_in(browser: Browser, *, make_client: Callable[[], httpx.Client] = no_client,
           issuer: str | None = None, iss_required: bool = False,
           refused: list[str] | None = None, wait: float = 10.0) -> object:
    import time

    try:
        return authcode.login(BASE, f"{ISSUER}/authorize", make_client, timeout=5, port=0,
                              open_url=browser, monotonic=time.monotonic, wait=wait,
                              on_refused=None if refused is None else refused.append,
                              issuer=issuer, iss_required=iss_required)
    finally:
        browser.join()


# ---------------------------------------------------------------------------
# The redirect's state


def test_a_redirect_without_any_state_is_refused_and_the_login_waits_on():
    # The first answer has a code but no state at all: it is not this login's.
    browser = Browser({"code": "forged-code"}, {"code": "real-code", "state": "STATE",
                                                "error": "access_denied"})
    refused: list[str] = []
    with pytest.raises(LoginFailed) as caught:
        log_in(browser, refused=refused)
    assert browser.statuses == [400, 200]
    assert refused == ["A redirect with a wrong state reached the listener and was ignored."]
    # The login ended with the second answer, the one with the right state.
    assert caught.value.failure.category == "access_denied"


def test_a_redirect_with_an_empty_state_is_refused():
    browser = Browser({"code": "forged-code", "state": ""},
                      {"state": "STATE", "error": "access_denied"})
    with pytest.raises(LoginFailed) as caught:
        log_in(browser)
    assert browser.statuses == [400, 200]
    assert caught.value.failure.category == "access_denied"


def test_a_redirect_without_state_alone_never_ends_the_login():
    import time

    browser = Browser({"code": "forged-code"})
    with pytest.raises(LoginFailed) as caught:
        authcode.login(BASE, f"{ISSUER}/authorize", no_client, timeout=5, port=0,
                       open_url=browser, monotonic=time.monotonic, wait=1.0)
    browser.join()
    assert browser.statuses == [400]
    assert caught.value.failure.category == "login_timeout"
    assert caught.value.failure.message == "The browser did not come back within 1 seconds."


# ---------------------------------------------------------------------------
# RFC 9207: the answer's iss is the provider's issuer, exactly


@pytest.mark.parametrize("iss", [
    "https://idp.example.com.evil",      # the issuer as a prefix of another host
    "https://idp.example.com/evil",      # ... of another path
    "https://idp.example.co",            # the issuer's prefix
    "https://IDP.example.com",           # compared as the metadata spells it
])
def test_an_iss_that_is_not_exactly_the_issuer_is_refused(iss):
    browser = Browser({"code": "code-1", "state": "STATE", "iss": iss})
    with pytest.raises(LoginFailed) as caught:
        log_in(browser, issuer=ISSUER)
    failure = caught.value.failure
    assert failure.details == {"issuer_mismatch": "other"}
    assert failure.message == (
        f"The browser came back from another authorization server ({iss}) than this "
        f"target's ({ISSUER}); RFC 9207 says to refuse it: its code was not used.")


def test_a_missing_iss_is_refused_only_where_the_provider_promises_it():
    with pytest.raises(LoginFailed) as caught:
        log_in(Browser({"code": "code-1", "state": "STATE"}), issuer=ISSUER, iss_required=True)
    assert caught.value.failure.details == {"issuer_mismatch": "missing"}


def test_the_exact_iss_lets_the_code_be_exchanged():
    exchanged: list[dict[str, list[str]]] = []

    def token_endpoint(request: httpx.Request) -> tuple[int, object]:
        exchanged.append(parse_qs(request.content.decode()))
        return 200, {"access_token": "at-exact-iss-1", "token_type": "Bearer",
                     "expires_in": 300}

    outcome = log_in(Browser({"code": "code-1", "state": "STATE", "iss": ISSUER}),
                     make_client=provider(token_endpoint), issuer=ISSUER, iss_required=True)
    assert outcome.token.access_token == "at-exact-iss-1"  # type: ignore[attr-defined]
    assert exchanged[0]["code"] == ["code-1"]


# ---------------------------------------------------------------------------
# The device flow: which links are shown, and how slow_down adds up


def device_answer(**fields: object) -> Callable[[], httpx.Client]:
    body = {"device_code": "dc-1", "user_code": "WDJB-MJHT",
            "verification_uri": f"{ISSUER}/device", "expires_in": 600, "interval": 5,
            **fields}

    return provider(lambda request: (200, body))


def start(make_client: Callable[[], httpx.Client]) -> device.DeviceCode:
    from dataclasses import replace

    return device.start(replace(BASE, grant_type="device_code"), f"{ISSUER}/device/code",
                        make_client, timeout=5)


@pytest.mark.parametrize(("link", "shown", "why"), [
    ("http://idp.example.com/device?user_code=WDJB-MJHT", "http://idp.example.com",
     "the verification_uri_complete must use https: credentials would cross the network in "
     "clear text (plain http is accepted only for loopback hosts)"),
    ("ftp://idp.example.com/device", "ftp://idp.example.com",
     "the URL must start with https:// (for example https://idp.example.com/device)"),
    ("javascript:alert(1)", "javascript:",
     "the URL must start with https:// (for example https://idp.example.com/device)"),
])
def test_a_complete_verification_link_that_is_not_https_is_never_shown(link, shown, why):
    with pytest.raises(LoginFailed) as caught:
        start(device_answer(verification_uri_complete=link))
    assert caught.value.failure.category == Category.INSECURE_URL
    assert caught.value.failure.message == (
        f"The device authorization endpoint's verification_uri_complete ({shown}) is refused: "
        f"{why}. It is not shown as a link to follow.")


@pytest.mark.parametrize("link", [
    "https://idp.example.com/device?user_code=WDJB-MJHT",
    "http://127.0.0.1:8080/device?user_code=WDJB-MJHT",   # a provider on this machine
    "http://localhost:8080/device?user_code=WDJB-MJHT",
])
def test_an_https_or_loopback_complete_link_is_shown(link):
    assert start(device_answer(verification_uri_complete=link)).verification_uri_complete == link


def test_a_verification_uri_that_is_not_https_is_refused():
    with pytest.raises(LoginFailed) as caught:
        start(device_answer(verification_uri="http://idp.example.com/device"))
    assert caught.value.failure.category == Category.INSECURE_URL
    assert caught.value.failure.message == (
        "The device authorization endpoint's verification_uri (http://idp.example.com) is "
        "refused: the verification_uri must use https: credentials would cross the network in "
        "clear text (plain http is accepted only for loopback hosts). It is not shown as a "
        "link to follow.")


def test_each_slow_down_adds_five_seconds_to_the_current_interval():
    script = [{"error": "slow_down"}, {"error": "slow_down"}, {"error": "authorization_pending"},
              {"access_token": "at-slow-1", "token_type": "Bearer", "expires_in": 300}]

    now = [0.0]
    sleeps: list[float] = []
    told: list[int] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    code = device.DeviceCode("dc-1", "WDJB-MJHT", f"{ISSUER}/device", None, 600, 2)
    outcome = device.poll(BASE, code, scripted(script),
                          timeout=5, sleep=sleep, monotonic=lambda: now[0],
                          on_slow_down=told.append)
    assert outcome.token is not None and outcome.token.access_token == "at-slow-1"
    # 2, then 2+5 after the first slow_down, then 7+5 (not 2+5) for good.
    assert sleeps == [2, 7, 12, 12]
    assert told == [7, 12]


def test_slow_down_never_makes_the_interval_longer_than_a_minute():
    script = [{"error": "slow_down"}] * 3 + [
        {"access_token": "at-slow-2", "token_type": "Bearer", "expires_in": 300}]

    sleeps: list[float] = []
    code = device.DeviceCode("dc-1", "WDJB-MJHT", f"{ISSUER}/device", None, 3600, 50)
    device.poll(BASE, code, scripted(script),
                timeout=5, sleep=sleeps.append, monotonic=lambda: 0.0)
    assert sleeps == [50, 55, 60, 60]

