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
        self.pages: list[str] = []
        self.thread: threading.Thread | None = None

    def __call__(self, url: str, redirect_uri: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]

        def visit() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                for answer in self.answers:
                    query = {k: v.replace("STATE", state) for k, v in answer.items()}
                    page = client.get(f"{redirect_uri}?{urlencode(query)}")
                    self.statuses.append(page.status_code)
                    self.pages.append(page.text)

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



# ---------------------------------------------------------------------------
# The device authorization answer: what each field must be


def refused_answer(**fields: object) -> str:
    with pytest.raises(LoginFailed) as caught:
        start(device_answer(**fields))
    assert caught.value.failure.category == Category.INVALID_TOKEN_RESPONSE
    assert caught.value.failure.http_status == 200
    return caught.value.failure.message


UNUSABLE = "The device authorization endpoint's answer is not usable (RFC 8628 §3.2): "


@pytest.mark.parametrize(("fields", "problem"), [
    ({"device_code": None}, "no device_code"),
    ({"device_code": ""}, "no device_code"),
    ({"device_code": 7}, "no device_code"),
    ({"user_code": None}, "no user_code of printable characters"),
    ({"user_code": ""}, "no user_code of printable characters"),
    ({"user_code": 1234}, "no user_code of printable characters"),
    ({"user_code": "W" * 65}, "no user_code of printable characters"),
    ({"user_code": "WDJB\x1b[2J"}, "no user_code of printable characters"),
    ({"verification_uri": None}, "no verification_uri (an https URL)"),
    ({"verification_uri": "  "}, "no verification_uri (an https URL)"),
    ({"expires_in": None}, "no expires_in"),
    ({"expires_in": 0}, "no expires_in"),
    ({"expires_in": -5}, "no expires_in"),
    ({"expires_in": True}, "no expires_in"),
    ({"expires_in": "soon"}, "no expires_in"),
    ({"expires_in": float("nan")}, "no expires_in"),
])
def test_a_device_answer_without_a_usable_field_is_refused(fields, problem):
    assert refused_answer(**fields) == UNUSABLE + problem + "."


def test_a_user_code_of_64_characters_is_shown():
    assert start(device_answer(user_code="W" * 64)).user_code == "W" * 64


def test_googles_verification_url_spelling_is_read():
    body = {"device_code": "dc-1", "user_code": "WDJB-MJHT", "expires_in": 600,
            "verification_url": f"{ISSUER}/device-google"}
    code = start(provider(lambda request: (200, body)))
    assert code.verification_uri == f"{ISSUER}/device-google"
    assert code.verification_uri_complete is None


@pytest.mark.parametrize(("expires_in", "kept"), [
    (1, 1), (600, 600), ("900", 900), (" 900 ", 900), (900.7, 900), (3600, 3600),
    (86400, 3600),
])
def test_expires_in_is_read_as_whole_seconds_and_at_most_an_hour(expires_in, kept):
    assert start(device_answer(expires_in=expires_in)).expires_in == kept


@pytest.mark.parametrize(("interval", "kept"), [
    (None, 5),        # §3.2: 5 when none is given
    (True, 5),        # not a number
    ("x", 5),
    (3, 3), ("7", 7), (2.9, 2),
    (0, 1), (-4, 1),  # never a busy loop
    (60, 60), (3600, 60),
])
def test_the_polling_interval_defaults_to_5_and_stays_between_1_and_60(interval, kept):
    assert start(device_answer(interval=interval)).interval == kept


def test_a_device_answer_that_is_not_a_json_object_is_not_json():
    with pytest.raises(LoginFailed) as caught:
        start(provider(lambda request: (200, ["device_code", "dc-1"])))
    assert caught.value.failure.category == Category.NOT_JSON
    assert caught.value.failure.message == (
        "The device authorization endpoint's answer (HTTP 200) is not a JSON object.")


def test_a_device_answer_with_an_error_status_is_classified():
    with pytest.raises(LoginFailed) as caught:
        start(provider(lambda request: (400, {"error": "invalid_client"})))
    assert caught.value.failure.category == Category.INVALID_CLIENT
    assert caught.value.failure.http_status == 400


def test_the_device_request_carries_no_grant_type():
    sent: list[dict[str, list[str]]] = []

    def endpoint(request: httpx.Request) -> tuple[int, object]:
        sent.append(parse_qs(request.content.decode()))
        return 200, {"device_code": "dc-1", "user_code": "WDJB-MJHT",
                     "verification_uri": f"{ISSUER}/device", "expires_in": 600}

    start(provider(endpoint))
    assert sent == [{"client_id": ["web-app"]}]


@pytest.mark.parametrize(("link", "shown"), [
    ("http://user:pw@idp.example.com/device", "http://idp.example.com"),
    ("HTTP://idp.example.com/device", "http://idp.example.com"),
    ("http://" + "h" * 120 + ".example.com/", "http://" + "h" * 100 + "…"),
    ("http://" + "h" * 100 + "/", "http://" + "h" * 100),
    ("http://" + "h" * 101 + "/", "http://" + "h" * 100 + "…"),
    ("https://idp.example.com\n.evil/device", "https://idp.example.com\\x0a.evil"),
    ("/device", "no scheme"),
    ("data:text/html,hi", "data:"),
])
def test_a_refused_link_is_named_by_its_scheme_and_host_only(link, shown):
    with pytest.raises(LoginFailed) as caught:
        start(device_answer(verification_uri=link))
    assert caught.value.failure.category == Category.INSECURE_URL
    assert caught.value.failure.details == {"verification_uri": "verification_uri"}
    assert caught.value.failure.message.startswith(
        f"The device authorization endpoint's verification_uri ({shown}) is refused: ")


# ---------------------------------------------------------------------------
# Polling: what each answer of the token endpoint does


def poll_with(answers: list[tuple[int, object]], *, expires_in: int = 600, interval: int = 2,
              backoff: list[tuple[int, str]] | None = None) -> tuple[list[float], object]:
    """Poll a token endpoint that gives `answers` in order; (the waits, the
    outcome or the LoginFailed)."""
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> tuple[int, object]:
        status, body = answers.pop(0)
        if status == 0:
            raise httpx.ConnectError("connection reset", request=request)
        return status, body

    code = device.DeviceCode("dc-1", "WDJB-MJHT", f"{ISSUER}/device", None, expires_in,
                             interval)
    try:
        result: object = device.poll(
            BASE, code, provider(answer), timeout=5, sleep=sleep, monotonic=lambda: now[0],
            on_backoff=None if backoff is None else lambda *told: backoff.append(told))
    except LoginFailed as exc:
        result = exc
    return sleeps, result


TOKEN = (200, {"access_token": "at-poll-1", "token_type": "Bearer", "expires_in": 300})


def test_a_5xx_a_429_and_a_dropped_connection_double_the_interval():
    told: list[tuple[int, str]] = []
    sleeps, outcome = poll_with([(503, {}), (429, {}), (0, None), TOKEN], backoff=told)
    assert sleeps == [2, 4, 8, 16]
    assert told == [(4, "server_error"), (8, "rate_limited"), (16, "connection_error")]
    assert outcome.token.access_token == "at-poll-1"  # type: ignore[attr-defined]


def test_the_back_off_never_waits_longer_than_a_minute():
    sleeps, _ = poll_with([(503, {})] * 3 + [TOKEN], interval=20)
    assert sleeps == [20, 40, 60, 60]


def test_access_denied_while_polling_ends_the_login():
    sleeps, caught = poll_with([(400, {"error": "authorization_pending"}),
                                (400, {"error": "access_denied"})])
    assert isinstance(caught, LoginFailed)
    assert sleeps == [2, 2]
    assert caught.failure.category == Category.ACCESS_DENIED
    assert caught.failure.message == "The login was declined at the provider (access_denied)."


@pytest.mark.parametrize(("expires_in", "said"), [
    (600, "10 minutes"), (60, "1 minute"), (29, "1 minute"), (150, "2 minutes"),
    (90, "2 minutes"),
])
def test_expired_token_while_polling_is_login_timeout(expires_in, said):
    _, caught = poll_with([(400, {"error": "expired_token"})], expires_in=expires_in,
                          interval=1)
    assert isinstance(caught, LoginFailed)
    assert caught.failure.category == Category.LOGIN_TIMEOUT
    assert caught.failure.message == (
        f"The code expired before the login was finished (it was valid for about {said}).")


def test_another_error_while_polling_ends_the_login_as_the_provider_said():
    _, caught = poll_with([(400, {"error": "invalid_grant"})])
    assert isinstance(caught, LoginFailed)
    assert caught.failure.category == Category.INVALID_GRANT
    assert caught.failure.oauth_error == "invalid_grant"


def test_a_4xx_without_an_error_code_while_polling_ends_the_login():
    _, caught = poll_with([(404, {})])
    assert isinstance(caught, LoginFailed)
    assert caught.failure.category == Category.NOT_FOUND


def test_polling_stops_at_the_last_wait_that_ends_before_the_code_expires():
    # Polls at 5 s and at 10 s (the code's last second); a wait to 15 s would pass it.
    sleeps, caught = poll_with([(400, {"error": "authorization_pending"})] * 2,
                               expires_in=10, interval=5)
    assert sleeps == [5, 5]
    assert isinstance(caught, LoginFailed)
    assert caught.failure.category == Category.LOGIN_TIMEOUT


# ---------------------------------------------------------------------------
# What the redirect carries besides its state


def test_an_error_redirect_is_the_providers_error_cut_to_size():
    browser = Browser({"state": "STATE", "error": "e" * 300, "error_description": "d" * 1200})
    with pytest.raises(LoginFailed) as caught:
        log_in(browser)
    failure = caught.value.failure
    assert browser.statuses == [200]
    assert failure.category == Category.OAUTH_ERROR
    assert failure.oauth_error == "e" * 200
    assert failure.oauth_error_description == "d" * 1000
    assert failure.message == ("The provider sent the browser back with an error: "
                               + "e" * 200 + " — " + "d" * 1000)


def test_an_error_redirect_with_an_empty_description_has_none():
    browser = Browser({"state": "STATE", "error": "invalid_scope", "error_description": ""})
    with pytest.raises(LoginFailed) as caught:
        log_in(browser)
    failure = caught.value.failure
    assert failure.category == Category.INVALID_SCOPE
    assert failure.oauth_error_description is None
    assert failure.message == "The provider sent the browser back with an error: invalid_scope"


@pytest.mark.parametrize("answer", [{"state": "STATE"}, {"state": "STATE", "code": ""}])
def test_a_redirect_with_the_right_state_but_no_code_ends_the_login(answer):
    browser = Browser(answer)
    with pytest.raises(LoginFailed) as caught:
        log_in(browser)
    assert browser.statuses == [400]
    assert caught.value.failure.category == Category.INVALID_REQUEST
    assert caught.value.failure.message == (
        "The provider sent the browser back with an error: invalid_request — the redirect "
        "carried no code")


def test_a_request_to_another_path_is_not_found_and_the_login_waits_on():
    statuses: list[int] = []
    threads: list[threading.Thread] = []

    def open_url(url: str, redirect_uri: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]
        base = redirect_uri.removesuffix("/callback")

        def visit() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                for target in (f"{base}/favicon.ico?state={state}&code=c-1",
                               f"{base}/callback/x?state={state}&code=c-1",
                               f"{redirect_uri}?state={state}&error=access_denied"):
                    statuses.append(client.get(target).status_code)

        threads.append(threading.Thread(target=visit, daemon=True))
        threads[0].start()

    import time

    with pytest.raises(LoginFailed) as caught:
        authcode.login(BASE, f"{ISSUER}/authorize", no_client, timeout=5, port=0,
                       open_url=open_url, monotonic=time.monotonic, wait=10)
    threads[0].join(10)
    assert statuses == [404, 404, 200]
    assert caught.value.failure.category == Category.ACCESS_DENIED


def exchanging(codes: list[str]) -> Callable[[], httpx.Client]:
    def token_endpoint(request: httpx.Request) -> tuple[int, object]:
        codes.append(parse_qs(request.content.decode())["code"][0])
        return 200, {"access_token": "at-iss-2", "token_type": "Bearer", "expires_in": 300}

    return provider(token_endpoint)


def test_a_missing_iss_is_accepted_where_the_provider_does_not_promise_it():
    codes: list[str] = []
    log_in(Browser({"code": "code-2", "state": "STATE"}), make_client=exchanging(codes),
           issuer=ISSUER, iss_required=False)
    assert codes == ["code-2"]


def test_any_iss_is_accepted_where_the_providers_issuer_is_unknown():
    codes: list[str] = []
    log_in(Browser({"code": "code-3", "state": "STATE", "iss": "https://other.example"}),
           make_client=exchanging(codes), issuer=None, iss_required=True)
    assert codes == ["code-3"]


def test_a_missing_iss_says_which_issuer_was_expected():
    with pytest.raises(LoginFailed) as caught:
        log_in(Browser({"code": "code-1", "state": "STATE"}), issuer=ISSUER, iss_required=True)
    assert caught.value.failure.category == Category.ISSUER_MISMATCH
    assert caught.value.failure.message == (
        "The browser came back without the `iss` parameter that the provider's metadata "
        f"promises (RFC 9207), so the answer may not be from {ISSUER}: its code was not used.")


def test_a_long_other_iss_is_shown_cut_to_200_characters():
    iss = "https://" + "i" * 300
    with pytest.raises(LoginFailed) as caught:
        log_in(Browser({"code": "code-1", "state": "STATE", "iss": iss}), issuer=ISSUER)
    assert caught.value.failure.category == Category.ISSUER_MISMATCH
    assert f"({iss[:200]}…) than" in caught.value.failure.message


def test_an_iss_of_exactly_200_characters_is_shown_whole():
    iss = "https://" + "i" * 192
    with pytest.raises(LoginFailed) as caught:
        log_in(Browser({"code": "code-1", "state": "STATE", "iss": iss}), issuer=ISSUER)
    assert f"({iss}) than" in caught.value.failure.message


def test_polling_sends_the_device_code_grant_with_the_code():
    sent: list[dict[str, list[str]]] = []

    def endpoint(request: httpx.Request) -> tuple[int, object]:
        sent.append(parse_qs(request.content.decode()))
        return TOKEN

    code = device.DeviceCode("dc-9", "WDJB-MJHT", f"{ISSUER}/device", None, 600, 1)
    device.poll(BASE, code, provider(endpoint), timeout=5, sleep=lambda s: None,
                monotonic=lambda: 0.0)
    assert sent == [{"grant_type": ["urn:ietf:params:oauth:grant-type:device_code"],
                     "device_code": ["dc-9"], "client_id": ["web-app"]}]


def test_polling_never_retries_with_the_other_client_authentication():
    from dataclasses import replace

    sent: list[str | None] = []

    def endpoint(request: httpx.Request) -> tuple[int, object]:
        sent.append(request.headers.get("Authorization"))
        return 401, {"error": "invalid_client"}

    code = device.DeviceCode("dc-1", "WDJB-MJHT", f"{ISSUER}/device", None, 600, 1)
    with pytest.raises(LoginFailed) as caught:
        device.poll(replace(BASE, client_auth="basic", client_secret="cs-1"), code,
                    provider(endpoint), timeout=5, sleep=lambda s: None, monotonic=lambda: 0.0)
    assert caught.value.failure.category == Category.INVALID_CLIENT
    assert sent == ["Basic d2ViLWFwcDpjcy0x"]


def page(title: str, text: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{text}</p></body></html>")


def test_each_redirect_is_answered_with_a_page_that_says_what_happened():
    browser = Browser({"code": "forged-code", "state": "wrong"}, {"state": "STATE"})
    with pytest.raises(LoginFailed):
        log_in(browser)
    assert browser.statuses == [400, 400]
    assert browser.pages == [
        page("Not this login", "This answer does not belong to the login astra-auth is waiting "
             "for, so it was ignored."),
        page("No code", "The provider&#x27;s answer carried no code."),
    ]


def test_a_declined_login_is_answered_with_a_page_that_says_so():
    browser = Browser({"state": "STATE", "error": "access_denied"})
    with pytest.raises(LoginFailed):
        log_in(browser)
    assert browser.statuses == [200]
    assert browser.pages == [page("Login not completed", "The provider did not log you in. You "
                                  "can close this tab and return to the terminal.")]


def test_a_login_with_a_code_is_answered_with_a_page_that_says_so():
    codes: list[str] = []
    browser = Browser({"code": "code-4", "state": "STATE"})
    log_in(browser, make_client=exchanging(codes))
    assert browser.statuses == [200]
    assert browser.pages == [page("Logged in", "You are logged in to astra-auth. You can close "
                                  "this tab and return to the terminal.")]


def test_another_path_is_answered_with_a_page_that_names_the_listener():
    listener = authcode.Listener(0, "s-1")
    try:
        def visit() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                answers.append(client.get(listener.redirect_uri.replace("/callback", "/x")))
                client.get(f"{listener.redirect_uri}?state=s-1&error=access_denied")

        import time

        answers: list[httpx.Response] = []
        thread = threading.Thread(target=visit, daemon=True)
        thread.start()
        listener.wait(10, time.monotonic)
        thread.join(10)
    finally:
        listener.close()
    assert answers[0].status_code == 404
    assert answers[0].text == page("Not here", "This is astra-auth&#x27;s login listener.")


def test_the_listener_counts_the_redirects_it_ignored():
    import time

    listener = authcode.Listener(0, "s-1")
    try:
        def visit() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                for query in ("state=s-2&code=c", "code=c", "state=s-1&code=c-1"):
                    client.get(f"{listener.redirect_uri}?{query}")

        thread = threading.Thread(target=visit, daemon=True)
        thread.start()
        result = listener.wait(10, time.monotonic)
        thread.join(10)
    finally:
        listener.close()
    assert result.refused == 2
    assert result.code == "c-1"


def test_the_browser_has_until_the_deadline_and_not_a_moment_more():
    clock = iter([100.0, 105.0])  # the start, then the deadline itself
    listener = authcode.Listener(0, "s-1")
    try:
        with pytest.raises(LoginFailed) as caught:
            listener.wait(5, lambda: next(clock))
    finally:
        listener.close()
    assert caught.value.failure.category == Category.LOGIN_TIMEOUT
    assert caught.value.failure.message == "The browser did not come back within 5 seconds."


def test_an_other_iss_of_201_characters_is_shown_cut():
    iss = "https://" + "i" * 193
    with pytest.raises(LoginFailed) as caught:
        log_in(Browser({"code": "code-1", "state": "STATE", "iss": iss}), issuer=ISSUER)
    assert f"({iss[:200]}…) than" in caught.value.failure.message
