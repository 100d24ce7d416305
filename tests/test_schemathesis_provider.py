"""The Schemathesis provider's parts, for every kind of credential (API keys in a
query parameter or a cookie included).  tests/test_scanners.py runs it for real."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests

from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential
from astra_auth.integrations.schemathesis import (
    AstraAuthError,
    AstraAuthProvider,
    _Binding,
    _case_carries,
    from_environment,
)

HEADER = Credential("header", "Authorization", "Bearer tok-1", token="tok-1")
COOKIE = Credential("cookie", "session", "k-1", token="k-1")
QUERY = Credential("query", "api_key", "k/1", token="k/1")


# What the provider's source raises while the provider is down.
DOWN = CredentialError(Failure(Category.SERVER_ERROR, "The provider answered 503."),
                       ["Try again later."])
DOWN_TEXT = "astra-auth: server_error: The provider answered 503.\n  → Try again later."


@dataclass
class FakeSource:
    """A CredentialSource that hands out what it is given and records renewals;
    with `down`, both fail as while the provider is down."""

    current: Credential
    renewals: list[tuple[Credential, str | None]] = field(default_factory=list)
    down: bool = False

    def get(self) -> Credential:
        if self.down:
            raise DOWN
        return self.current

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        self.renewals.append((failed, www_authenticate))
        if self.down:
            raise DOWN
        return None


@dataclass
class FakeCase:
    headers: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)


@dataclass
class FakeResponse:
    status_code: int
    request: requests.PreparedRequest
    headers: dict = field(default_factory=dict)


def sent(case: FakeCase, url: str = "https://api.example.com/things") -> requests.PreparedRequest:
    """The request Schemathesis would send for `case`."""
    return requests.Request("GET", url, headers=case.headers, cookies=case.cookies,
                            params=case.query).prepare()


def binding_for(credential: Credential) -> tuple[_Binding, FakeSource]:
    source = FakeSource(credential)
    return _Binding("api", "https://api.example.com", source), source  # type: ignore[arg-type]


@pytest.mark.parametrize(("credential", "where"), [
    (HEADER, ("headers", {"Authorization": "Bearer tok-1"})),
    (COOKIE, ("cookies", {"session": "k-1"})),
    (QUERY, ("query", {"api_key": "k/1"})),
])
def test_set_puts_each_kind_of_credential_where_it_goes(credential, where):
    binding, _ = binding_for(credential)
    provider = type("P", (AstraAuthProvider,), {"binding": binding})()
    case = FakeCase()
    provider.set(case, binding.credential_for("https://api.example.com/v1"), None)
    container, expected = where
    assert getattr(case, container) == expected
    assert [c for c in ("headers", "cookies", "query") if getattr(case, c)] == [container]


@pytest.mark.parametrize("credential", [HEADER, COOKIE, QUERY])
def test_a_401_to_a_request_that_carried_the_credential_asks_the_source_to_renew(credential):
    binding, source = binding_for(credential)
    case = FakeCase()
    provider = type("P", (AstraAuthProvider,), {"binding": binding})()
    provider.set(case, binding.credential_for("https://api.example.com"), None)
    challenge = 'Bearer error="invalid_token"'
    binding.after_call(None, case, FakeResponse(401, sent(case),
                                                {"www-authenticate": [challenge]}))
    assert source.renewals == [(credential, challenge)]


def test_no_renewal_for_a_request_without_the_credential_or_for_other_answers():
    binding, source = binding_for(HEADER)
    case = FakeCase()
    binding.credential_for("https://api.example.com")
    binding.after_call(None, case, FakeResponse(401, sent(case)))  # an ignored_auth probe
    binding.after_call(None, case, FakeResponse(401, sent(FakeCase(
        headers={"Authorization": "Bearer forged"}))))
    case.headers["Authorization"] = "Bearer tok-1"
    binding.after_call(None, case, FakeResponse(403, sent(case)))
    binding.after_call(None, case, FakeResponse(200, sent(case)))
    assert source.renewals == []


def test_an_older_token_still_in_flight_is_the_one_renewed():
    binding, source = binding_for(HEADER)
    binding.credential_for("https://api.example.com")
    newer = Credential("header", "Authorization", "Bearer tok-2", token="tok-2")
    source.current = newer
    for _ in range(20):  # many cases later, the old token must still be known
        binding.credential_for("https://api.example.com")
    old_case = FakeCase(headers={"Authorization": "Bearer tok-1"})
    binding.after_call(None, old_case, FakeResponse(401, sent(old_case)))
    assert source.renewals == [(HEADER, None)]


@pytest.mark.parametrize("base_url", [
    "http://api.example.com", "https://api.example.com:8443", "https://other.example.com",
])
def test_the_credential_is_refused_to_another_origin(base_url, capsys):
    binding, _ = binding_for(HEADER)
    with pytest.raises(Exception, match="astra-auth sends a target's credential only to the "
                                        "target's own origin"):
        binding.credential_for(base_url)
    # Told once on stderr too: Schemathesis replaces repeated errors with its own words.
    with pytest.raises(Exception, match="only to the target's own origin"):
        binding.credential_for(base_url)
    assert capsys.readouterr().err.count("astra-auth: the scan's API is at") == 1


@pytest.mark.parametrize("credential", [HEADER, COOKIE, QUERY])
def test_a_case_about_to_be_sent_gets_the_current_credential(credential):
    binding, source = binding_for(credential)
    provider = type("P", (AstraAuthProvider,), {"binding": binding})()
    case = FakeCase()
    provider.set(case, binding.credential_for("https://api.example.com"), None)
    renewed = Credential(credential.location, credential.name, "v-2", token="v-2")
    source.current = renewed  # renewed while the case waited
    binding.refresh(case)
    assert _case_carries(case, renewed) and not _case_carries(case, credential)


def test_a_case_without_our_credential_is_sent_as_it_is():
    binding, source = binding_for(HEADER)
    binding.credential_for("https://api.example.com")
    source.current = Credential("header", "Authorization", "Bearer tok-2", token="tok-2")
    bare, forged = FakeCase(), FakeCase(headers={"Authorization": "Bearer forged"})
    binding.refresh(bare)
    binding.refresh(forged)
    assert bare.headers == {} and forged.headers == {"Authorization": "Bearer forged"}


# ---------------------------------------------------------------------------
# When no credential can be had


@dataclass
class FakeOperation:
    base_url: str = "https://api.example.com"


@dataclass
class FakeContext:
    operation: FakeOperation = field(default_factory=FakeOperation)


def test_schemathesis_shows_astra_auths_failure_however_often_it_repeats():
    """Not "Token fetch failed 3 times in a row", which Schemathesis's caching
    layer says in its place after three failures of `get` in a row."""
    from schemathesis.auths import AuthStorage
    from schemathesis.core.errors import AuthenticationError

    binding, source = binding_for(HEADER)
    source.down = True
    storage = AuthStorage()
    storage.auth(refresh_interval=0, retry_on=[401])(
        type("P", (AstraAuthProvider,), {"binding": binding}))
    for _ in range(5):
        with pytest.raises(AuthenticationError) as raised:
            storage.set(FakeCase(), FakeContext())  # type: ignore[arg-type]
        assert str(raised.value) == DOWN_TEXT
    assert binding.missed == 5


def test_a_failure_reaches_schemathesis_through_set():
    binding, source = binding_for(HEADER)
    provider = type("P", (AstraAuthProvider,), {"binding": binding})()
    source.down = True
    data = provider.get(FakeCase(), FakeContext())
    case = FakeCase()
    with pytest.raises(Exception, match="^astra-auth: server_error: The provider answered 503"):
        provider.set(case, data, FakeContext())
    assert case == FakeCase()  # nothing was put into it


def test_a_refused_credential_that_cannot_be_renewed_is_reported_at_the_end(capsys):
    binding, source = binding_for(HEADER)
    provider = type("P", (AstraAuthProvider,), {"binding": binding})()
    case = FakeCase()
    provider.set(case, binding.credential_for("https://api.example.com"), None)
    assert binding.unreported() is None
    source.down = True
    for _ in range(2):
        binding.after_call(None, case, FakeResponse(401, sent(case)))
    assert binding.unreported() == (DOWN_TEXT + "\nNo credential could be had 2 times during "
                                    "this scan, so the scan fails.")
    assert capsys.readouterr().err == DOWN_TEXT + "\n"  # told once, as it happened


def test_a_refusal_that_no_new_credential_would_help_is_not_reported():
    """The source declines to renew (`insufficient_scope`, or an API that
    refuses even a fresh token): Schemathesis's checks judge those 401s."""
    binding, source = binding_for(HEADER)
    case = FakeCase(headers={"Authorization": "Bearer tok-1"})
    binding.credential_for("https://api.example.com")
    binding.after_call(None, case, FakeResponse(401, sent(case)))
    assert source.renewals == [(HEADER, None)] and binding.unreported() is None


def test_imported_from_python_a_failure_is_raised_not_an_exit(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTRA_AUTH_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRA_AUTH_TARGET", "nosuch")
    with pytest.raises(AstraAuthError, match="^astra-auth: no target named 'nosuch'"):
        from_environment()
