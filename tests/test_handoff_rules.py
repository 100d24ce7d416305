"""Handing the credential over: `auth_for`'s httpx auth sends it to the
target's own origin only (an explicit default port is the same origin), and
`exec` replaces what a parent `exec` left in the environment.

(exec's whole environment, variable by variable, is stated in
tests/test_exec.py: test_header_credential, test_query_credential_has_no_header_variables_and_says_why.)
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra_auth.commands.exec import environment
from astra_auth.credentials.interface import Credential, origin
from astra_auth.integrations.httpx_auth import AstraAuth
from astra_auth.storage.config import Target


class StaticSource:
    """A credential source that always has the same header credential."""

    def __init__(self) -> None:
        self.target = Target(name="api")
        self.credential = Credential("header", "Authorization", "Bearer tok-handoff-1",
                                     token="tok-handoff-1")
        self.gets = 0

    def get(self) -> Credential:
        self.gets += 1
        return self.credential

    def peek(self) -> Credential | None:
        return self.credential

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> None:
        return None


def sent_authorization(api_url: str, request_url: str) -> str | None:
    """The Authorization header a request to `request_url` went out with."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    auth = AstraAuth(StaticSource(), api_url)  # type: ignore[arg-type]
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
        client.get(request_url)
    return seen[0].headers.get("Authorization")


@pytest.mark.parametrize(("api_url", "request_url"), [
    ("https://api.example.com:443", "https://api.example.com/v1/items"),
    ("https://api.example.com", "https://api.example.com:443/v1/items"),
    ("https://api.example.com:443/v1", "https://api.example.com:443/v1/items"),
    ("http://127.0.0.1:80", "http://127.0.0.1/v1/items"),
    ("https://API.example.com", "https://api.EXAMPLE.com/v1/items"),
])
def test_the_credential_goes_to_the_same_origin_however_it_is_written(api_url, request_url):
    assert sent_authorization(api_url, request_url) == "Bearer tok-handoff-1"


@pytest.mark.parametrize(("api_url", "request_url"), [
    ("https://api.example.com:443", "https://api.example.com:8443/v1/items"),
    ("https://api.example.com:443", "http://api.example.com:443/v1/items"),
    ("https://api.example.com", "http://api.example.com/v1/items"),
    ("https://api.example.com", "https://api.example.com.evil/v1/items"),
    ("https://api.example.com", "https://other.example.com/v1/items"),
])
def test_the_credential_never_goes_to_another_origin(api_url, request_url):
    assert sent_authorization(api_url, request_url) is None


def test_the_origin_fills_in_the_schemes_default_port():
    assert origin("https://api.example.com") == ("https", "api.example.com", 443)
    assert origin("HTTP://API.example.com/x") == ("http", "api.example.com", 80)
    assert origin("https://api.example.com:8443/x") == ("https", "api.example.com", 8443)


# Generated: whatever way the two URLs are written, the credential goes exactly
# where scheme, host (in any case) and port (default or written) all match.
hosts = st.sampled_from(["api.example.com", "API.Example.com", "api.example.org", "127.0.0.1"])
schemes = st.sampled_from(["http", "https"])
ports = st.sampled_from([None, 80, 443, 8443])


def written(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def same_origin(a: tuple[str, str, int | None], b: tuple[str, str, int | None]) -> bool:
    def norm(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
        return scheme, host.lower(), port or {"http": 80, "https": 443}[scheme]

    return norm(*a) == norm(*b)


@settings(max_examples=200, deadline=None)
@given(schemes, hosts, ports, schemes, hosts, ports)
def test_the_credential_goes_where_the_origins_match_and_nowhere_else(s1, h1, p1, s2, h2, p2):
    sent = sent_authorization(written(s1, h1, p1), written(s2, h2, p2) + "/x")
    if same_origin((s1, h1, p1), (s2, h2, p2)):
        assert sent == "Bearer tok-handoff-1"
    else:
        assert sent is None


# ---------------------------------------------------------------------------
# exec: a parent exec's variables never survive


def test_a_parent_execs_header_value_is_replaced_by_this_targets():
    parent = {"PATH": "/usr/bin", "ASTRA_AUTH_HEADER_NAME": "X-Old",
              "ASTRA_AUTH_HEADER_VALUE": "Bearer parent-token", "ASTRA_AUTH_TOKEN": "parent-token"}
    credential = Credential("header", "X-API-Key", "k-child-1", token="k-child-1")
    env, _ = environment(parent, credential, "https://api.example.com", "child")
    assert env["ASTRA_AUTH_HEADER_NAME"] == "X-API-Key"
    assert env["ASTRA_AUTH_HEADER_VALUE"] == "k-child-1"
    assert env["ASTRA_AUTH_TOKEN"] == "k-child-1"
    assert "parent-token" not in " ".join(env.values())


def test_a_parent_execs_header_value_is_dropped_for_a_credential_without_a_header():
    parent = {"PATH": "/usr/bin", "ASTRA_AUTH_HEADER_NAME": "Authorization",
              "ASTRA_AUTH_HEADER_VALUE": "Bearer parent-token", "ASTRA_AUTH_TOKEN": "parent-token",
              "ZAP_AUTH_HEADER_VALUE": "Bearer parent-token"}
    credential = Credential("query", "key", "k-child-2", token="k-child-2")
    env, _ = environment(parent, credential, "https://api.example.com", "child")
    assert env == {"PATH": "/usr/bin", "ASTRA_AUTH_LOCATION": "query",
                   "ASTRA_AUTH_TOKEN": "k-child-2", "ASTRA_AUTH_QUERY": "key=k-child-2"}


def test_a_basic_credential_leaves_no_parent_token_behind():
    parent = {"ASTRA_AUTH_TOKEN": "parent-token", "ASTRA_AUTH_HEADER_VALUE": "Bearer parent"}
    credential = Credential("header", "Authorization", "Basic dTpw")  # no bare token
    env, _ = environment(parent, credential, "https://api.example.com", "child")
    assert "ASTRA_AUTH_TOKEN" not in env
    assert env["ASTRA_AUTH_HEADER_VALUE"] == "Basic dTpw"


def test_the_origin_of_a_url_without_a_host_has_an_empty_host():
    assert origin("https:///v1") == ("https", "", 443)


@pytest.mark.parametrize(("query", "sent"), [
    ("", "api_key=k%2F1"),
    ("x=%E9%27&flag&d=a;b&a=b=c&%ZZ&=&&q=a+b",
     "x=%E9%27&flag&d=a;b&a=b=c&%ZZ&=&&q=a+b&api_key=k%2F1"),
    ("api_key=forged&id=7&api%5Fkey=again&api+key=other", "id=7&api+key=other&api_key=k%2F1"),
])
def test_a_query_credential_leaves_the_clients_other_pairs_as_they_were(query, sent):
    headers: dict[str, str] = {}
    credential = Credential("query", "api_key", "k/1", token="k/1")
    url = credential.apply(headers, "https://api.example.com/v1/items" + ("?" + query if query else "")
                           + "#frag")
    assert url == f"https://api.example.com/v1/items?{sent}#frag"
    assert headers == {}
