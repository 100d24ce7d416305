"""The URL rules of core/validate.py against generated URLs.

Each URL is built from parts whose verdict is known on its own (a scheme, user
information, a host, a port, a path, a fragment), and the expected answer is
the rules' own statement: a token URL is https, or http to a loopback host;
never user information or a #fragment; a host of valid labels; a port from 1
to 65535; no spaces.  An API URL is the same, with http to any host and a
fragment allowed.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from astra_auth.core import validate

# (host as written, valid, loopback)
HOSTS = [
    ("idp.example.com", True, False), ("A-b.Example.ORG", True, False), ("x", True, False),
    ("a_b.example.com", True, False), ("bücher.de", True, False), ("10.0.0.5", True, False),
    ("[2001:db8::1]", True, False), ("example.com.", True, False),
    ("127.0.0.1", True, True), ("127.8.9.10", True, True), ("localhost", True, True),
    ("LOCALHOST", True, True), ("api.localhost", True, True), ("[::1]", True, True),
    ("localhost.", True, True),
    ("-a.example.com", False, False), ("a-.example.com", False, False),
    ("a..b", False, False), ("a.-b.com", False, False), ("a" * 64 + ".com", False, False),
    ("exa%20mple.com", False, False), ("a!b.com", False, False),
]
SCHEMES = [("https", True), ("HTTPS", True), ("http", True), ("Http", True), ("ftp", False),
           ("file", False), ("javascript", False)]
USERINFO = [None, "user", "user:pw", ""]  # "" is a bare "@"
PORTS = [(None, True), ("1", True), ("443", True), ("65535", True), ("0", False),
         ("65536", False), ("", False), ("x", False), ("-1", False)]
PATHS = ["", "/", "/oauth/token", "/o/token/?a=1&b=2"]
FRAGMENTS = [None, "", "top"]


def build(scheme: str, userinfo: str | None, host: str, port: str | None, path: str,
          fragment: str | None) -> str:
    netloc = (f"{userinfo}@" if userinfo is not None else "") + host \
        + (f":{port}" if port is not None else "")
    return f"{scheme}://{netloc}{path}" + (f"#{fragment}" if fragment is not None else "")


parts = st.tuples(st.sampled_from(SCHEMES), st.sampled_from(USERINFO), st.sampled_from(HOSTS),
                  st.sampled_from(PORTS), st.sampled_from(PATHS), st.sampled_from(FRAGMENTS))


def verdict(p, *, token: bool) -> bool:  # type: ignore[no-untyped-def]
    (scheme, scheme_ok), userinfo, (_, host_ok, loopback), (_, port_ok), _, fragment = p
    if not scheme_ok or userinfo is not None or not port_ok or not host_ok:
        return False
    if scheme.lower() == "http" and not loopback:
        return False  # plain http only to this machine, for every URL
    if token and fragment is not None:
        return False
    return True


def url_of(p) -> str:  # type: ignore[no-untyped-def]
    (scheme, _), userinfo, (host, _, _), (port, _), path, fragment = p
    return build(scheme, userinfo, host, port, path, fragment)


def accepted(check, url: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        result = check(url)
    except ValueError as exc:
        assert str(exc), "a refusal says why"
        return False
    assert result == url
    return True


@settings(max_examples=600, deadline=None)
@given(parts)
@example(((("https", True)), None, HOSTS[0], ("0", False), "/t", None))
@example(((("https", True)), None, HOSTS[0], (None, True), "/t", ""))
def test_a_token_url_is_accepted_exactly_when_the_rules_say(p):
    assert accepted(validate.token_url, url_of(p)) == verdict(p, token=True), url_of(p)


@settings(max_examples=600, deadline=None)
@given(parts)
def test_an_api_url_is_accepted_exactly_when_the_rules_say(p):
    assert accepted(validate.api_url, url_of(p)) == verdict(p, token=False), url_of(p)


@settings(max_examples=200, deadline=None)
@given(parts, st.sampled_from([" ", "\t", "\n", "\x00", "\x1b", "\u2028", "\u200e"]),
       st.integers(0, 60))
def test_a_url_with_a_space_or_control_character_anywhere_is_refused(p, bad, at):
    url = url_of(p)
    at = min(max(at, 1), len(url))  # inside: white space around it is dropped first
    with pytest.raises(ValueError):
        validate.api_url(url[:at] + bad + url[at:] + "x")


def test_surrounding_white_space_is_dropped_first():
    assert validate.token_url("  https://idp.example.com/token \n") == \
        "https://idp.example.com/token"


@pytest.mark.parametrize(("url", "message"), [
    ("https://idp.example.com:0/token", "the URL has an invalid port (a number from 1 to 65535)"),
    ("https://idp.example.com:65536/token",
     "the URL has an invalid port (a number from 1 to 65535)"),
    ("https://idp.example.com/token#", "a token URL has no #fragment; remove everything from '#'"),
    ("https://u:p@idp.example.com/token",
     "the URL contains user information (user:password@); credentials belong in the client "
     "ID and secret, never in the URL"),
    ("http://idp.example.com/token",
     "the token URL must use https: credentials would cross the network in clear text (plain "
     "http is accepted only for loopback hosts)"),
])
def test_each_refusal_says_why(url, message):
    with pytest.raises(ValueError) as caught:
        validate.token_url(url)
    assert str(caught.value) == message


def test_the_length_limit_is_2048_characters():
    base = "https://idp.example.com/"
    assert validate.api_url(base + "a" * (2048 - len(base))) is not None
    with pytest.raises(ValueError) as caught:
        validate.api_url(base + "a" * (2049 - len(base)))
    assert str(caught.value) == "the URL is too long (2049 characters; at most 2048)"


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4))
def test_an_ipv4_host_is_loopback_exactly_when_it_is_in_127_0_0_0_8(ip):
    assert validate.is_loopback_host(str(ip)) == (str(ip).split(".")[0] == "127")


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=6))
def test_an_ipv6_host_is_loopback_exactly_when_it_is_colon_colon_1(ip):
    assert validate.is_loopback_host(str(ip)) == (ip == ipaddress.IPv6Address("::1"))


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("LocalHost.", True), ("a.b.localhost", True),
    ("localhost.example.com", False), ("notlocalhost", False), ("127.0.0.1.nip.io", False),
    ("", False),
])
def test_loopback_names(host, loopback):
    assert validate.is_loopback_host(host) is loopback


@pytest.mark.parametrize(("url", "message"), [
    ("", "the URL is empty"),
    ("   ", "the URL is empty"),
    ("https://a b/t", "the URL contains spaces or control characters"),
    ("https://idp.example.com/t\x1b", "the URL contains spaces or control characters"),
    ("https:///t", "the URL has no host name"),
    ("https://idp.example.com:/t", "the URL has an empty port after ':'"),
    ("https://-a.example.com/t", "'-a.example.com' is not a valid host name"),
    ("https://" + "é" * 64 + ".com/t",
     "'" + "é" * 60 + "…' is not a valid host name"),  # a label too long even for IDNA
])
@pytest.mark.parametrize("check", [validate.token_url, validate.api_url])
def test_each_url_refusal_says_why(check, url, message):
    with pytest.raises(ValueError) as caught:
        check(url)
    assert str(caught.value) == message


def test_a_scheme_refusal_gives_an_example_of_its_own_kind():
    with pytest.raises(ValueError) as caught:
        validate.token_url("ftp://idp.example.com/t")
    assert str(caught.value) == ("the URL must start with https:// (for example "
                                 "https://idp.example.com/oauth/token)")
    with pytest.raises(ValueError) as caught:
        validate.api_url("ftp://api.example.com/t")
    assert str(caught.value) == ("the URL must start with https:// (for example "
                                 "https://api.example.com)")


@pytest.mark.parametrize("url", ["https://X/t", "https://idp.X./t", "https://x.X/t"])
def test_a_one_letter_label_is_a_host_name(url):
    assert validate.token_url(url) == url
