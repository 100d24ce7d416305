"""Hints and checks, each rule on its own: a URL from outside is offered as a
ready `--token-url` only where `--token-url` would take it; a refused password
names the password's own variable; `--probe` stays on the API's origin
(scheme, host and port)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra_auth.core.errors import UsageError
from astra_auth.core.failure import Category, Failure
from astra_auth.diagnosis.apicheck import probe_url
from astra_auth.diagnosis.hints import Context, hints_for
from astra_auth.storage.config import Target
from astra_auth.text.shellcmd import suggestable_url

CTX_CC = Context("payments-api", "client_credentials", "scanner-app", "basic",
                 "https://idp.example.com/oauth/token")
LOGIN_PAGE = ("A redirect to a login page means this URL is a web page, not the token endpoint; "
              "the provider's documentation or admin console names its token endpoint "
              "(token_endpoint in its OpenID Connect discovery document, if it has one).")
SLASH = ("A redirect from http:// to https:// or to add a trailing slash means the URL needs "
         "exactly that change.")


def redirect_to(location: str) -> list[str]:
    return hints_for(Failure(Category.REDIRECT, "m", details={"location": location}), CTX_CC)


# ---------------------------------------------------------------------------
# A redirect's Location


@pytest.mark.parametrize("location", [
    "http://idp.example.com/oauth/token",        # looks like the token endpoint
    "http://idp.example.com/login",
    "http://10.0.0.5/oauth/token",
    "http://127.0.0.1:8080/oauth/token",         # even to this machine: the redirect's own
])
def test_a_plain_http_location_is_never_offered_as_a_token_url(location):
    hints = redirect_to(location)
    assert hints == [LOGIN_PAGE, SLASH]
    assert not any("--token-url http:" in hint for hint in hints)


def test_an_https_location_that_is_a_token_endpoint_is_offered_quoted():
    assert redirect_to("https://idp.example.com/oauth2/v2.0/token?x=1&y=2") == [
        "The provider sends token requests on to https://idp.example.com/oauth2/v2.0/token?x=1&"
        "y=2, which looks like its token endpoint: save it with: astra-auth configure "
        "payments-api --token-url 'https://idp.example.com/oauth2/v2.0/token?x=1&y=2' "
        "--no-input",
        "astra-auth never re-sends credentials to a redirect's location: the saved URL must "
        "be the one that answers."]


def test_an_https_location_that_is_a_page_is_offered_only_as_an_if():
    assert redirect_to("https://idp.example.com/login") == [
        "If the new location is the real token endpoint, save it: astra-auth configure "
        "payments-api --token-url https://idp.example.com/login --no-input",
        LOGIN_PAGE, SLASH]


@pytest.mark.parametrize("url", [
    "http://idp.example.com/token", "https://user:pw@idp.example.com/token",
    "https://idp.example.com/token#frag", "https://idp.example.com/to ken",
    "https://idp.example.com/token\n", "ftp://idp.example.com/token", None, 42,
])
def test_a_url_token_url_would_refuse_is_not_suggestable(url):
    assert suggestable_url(url) is None


@pytest.mark.parametrize("url", ["https://idp.example.com/token",
                                 "http://127.0.0.1:9000/token", "http://localhost/token"])
def test_a_url_token_url_would_take_is_suggestable(url):
    assert suggestable_url(url) == url


# ---------------------------------------------------------------------------
# The password grant's invalid_grant


@pytest.mark.parametrize("mode", ["keyring", "env"])
def test_a_refused_password_names_the_passwords_variable_not_the_client_secrets(mode):
    ctx = Context("hr", "password", "hr-app", "post", "https://idp.example.com/oauth/token",
                  secrets_mode=mode, sources={"client_secret": "ASTRA_AUTH_HR_CLIENT_SECRET",
                                              "password": "ASTRA_AUTH_PASSWORD"})
    hint = hints_for(Failure("invalid_grant", "m"), ctx)[2]
    if mode == "keyring":
        assert hint == ("The password came from ASTRA_AUTH_PASSWORD, which overrides the one "
                        "stored in the keyring: check its value, or unset it to use the "
                        "stored one: unset ASTRA_AUTH_PASSWORD")
    else:
        assert hint == ("The password came from ASTRA_AUTH_PASSWORD: check its value where "
                        "astra-auth runs.")


def test_a_refused_password_from_the_keyring_gives_the_command_to_store_it_again():
    ctx = Context("hr", "password", "hr-app", "post", "https://idp.example.com/oauth/token",
                  sources={"client_secret": "ASTRA_AUTH_HR_CLIENT_SECRET",
                           "password": "keyring"})
    assert hints_for(Failure("invalid_grant", "m"), ctx)[2] == (
        "Store the password again with: printf '%s\\n' \"$PASSWORD\" | astra-auth configure "
        "hr --password-stdin --no-input")


# ---------------------------------------------------------------------------
# --probe: the API's own origin only


API = Target(name="t", url="https://api.example.com/v1")


@pytest.mark.parametrize("probe", [
    "https://api.example.com:8443/v1/me",    # another port
    "https://api.example.com.evil/v1/me",    # another host that starts the same
    "https://evil.example/v1/me",
    "https://example.com/v1/me",
])
def test_a_probe_on_another_origin_is_refused(probe):
    with pytest.raises(UsageError) as caught:
        probe_url(API, probe)
    assert caught.value.message == (
        f"--probe: {probe} is not on the API's origin (https://api.example.com); the "
        "credential is only ever sent to the target's own origin")


def test_a_probe_in_another_scheme_is_refused():
    # Plain http is refused for any host but a loopback one before origins are
    # compared (test_url_and_name_rules.py); on loopback the scheme still counts.
    with pytest.raises(UsageError) as caught:
        probe_url(Target(name="t", url="https://localhost/v1"), "http://localhost/v1/me")
    assert caught.value.message == (
        "--probe: http://localhost/v1/me is not on the API's origin (https://localhost); the "
        "credential is only ever sent to the target's own origin")


@pytest.mark.parametrize("probe", [
    "https://api.example.com/other",
    "https://api.example.com:443/v1/me",     # the default port, written out
    "https://API.Example.com/v1/me",         # host names are case-insensitive
])
def test_a_probe_on_the_same_origin_is_taken_as_it_is(probe):
    assert probe_url(API, probe) == probe


def test_a_probe_path_goes_under_the_targets_url():
    assert probe_url(API, "/me") == "https://api.example.com/v1/me"
    assert probe_url(Target(name="t", url="https://api.example.com/v1/"), "/me") == \
        "https://api.example.com/v1/me"


# ---------------------------------------------------------------------------
# Generated: the origin check against an independent statement of it

hosts = st.sampled_from(["api.example.com", "API.example.com", "api.example.org",
                         "api.example.com.evil", "127.0.0.1", "localhost"])
schemes = st.sampled_from(["http", "https"])
ports = st.sampled_from([None, 80, 443, 8080, 8443])


def written(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def expected_origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    return scheme, host.lower(), port if port is not None else {"http": 80, "https": 443}[scheme]


@settings(max_examples=300, deadline=None)
@given(schemes, hosts, ports, schemes, hosts, ports)
def test_a_probe_is_taken_exactly_when_scheme_host_and_port_match(s1, h1, p1, s2, h2, p2):
    target = Target(name="t", url=written(s1, h1, p1) + "/v1")
    probe = written(s2, h2, p2) + "/me"
    # Taken when the origins match and the probe may be used at all: https, or
    # plain http to a loopback host.
    usable = s2 == "https" or h2 in ("127.0.0.1", "localhost")
    same = expected_origin(s1, h1, p1) == expected_origin(s2, h2, p2) and usable
    if same:
        assert probe_url(target, probe) == probe
    else:
        with pytest.raises(UsageError):
            probe_url(target, probe)
