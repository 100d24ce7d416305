"""The one renewal rule (credentials/renewal.py) for generated lifetimes and
clocks, stated case by case as the docs say it:

- a lifetime of 300 s or more: renewed at 80 % of it (that comes before 60 s
  before expiry);
- 120 s to 300 s: 60 s before expiry (that comes before 80 %);
- under 120 s: at half of it (60 s before expiry would be earlier than half);
- an unknown issue time: 60 s before expiry;
- `min_ttl`: never later than `min_ttl` before expiry.

And a JWT signed here, on a clock the test moves, is signed again exactly
from that moment on.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from astra_auth.credentials.interface import Credential, RefusalRule, bearer_error
from astra_auth.credentials.renewal import renew_at

issued_ats = st.floats(0, 4e9, allow_nan=False)
lifetimes = st.floats(0.001, 1e7, allow_nan=False)


def close(value: float) -> object:
    return pytest.approx(value, abs=1e-6, rel=1e-12)


@settings(max_examples=500, deadline=None)
@given(issued_ats, lifetimes)
def test_the_renewal_point_by_lifetime(issued, lifetime):
    expires = issued + lifetime
    assume(expires > issued)
    lifetime = expires - issued  # as the floats have it
    point = renew_at(issued, expires)
    if lifetime >= 300:
        assert point == close(issued + 0.8 * lifetime)
    elif lifetime >= 120:
        assert point == close(expires - 60)
    else:
        assert point == close(issued + lifetime / 2)


@settings(max_examples=500, deadline=None)
@given(issued_ats, lifetimes)
def test_never_before_half_never_after_eighty_percent(issued, lifetime):
    expires = issued + lifetime
    assume(expires > issued)
    lifetime = expires - issued
    point = renew_at(issued, expires)
    assert issued + lifetime / 2 - 1e-6 <= point <= issued + 0.8 * lifetime + 1e-6
    if lifetime >= 120:
        assert point <= expires - 60 + 1e-6


@settings(max_examples=300, deadline=None)
@given(issued_ats, lifetimes, lifetimes)
def test_a_longer_lifetime_is_never_renewed_sooner(issued, shorter, longer):
    assume(shorter <= longer)
    assert renew_at(issued, issued + shorter) <= renew_at(issued, issued + longer) + 1e-6


@settings(max_examples=300, deadline=None)
@given(issued_ats, lifetimes, st.floats(0, 1e7, allow_nan=False))
def test_min_ttl_asks_for_at_least_that_much_life(issued, lifetime, min_ttl):
    expires = issued + lifetime
    assume(expires > issued)
    plain = renew_at(issued, expires)
    point = renew_at(issued, expires, min_ttl)
    assert point == close(min(plain, expires - min_ttl))


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 4e9, allow_nan=False), st.one_of(st.none(), st.floats(0, 1e6)))
def test_an_unknown_issue_time_renews_60_seconds_before_expiry(expires, min_ttl):
    point = renew_at(None, expires, min_ttl)
    expected = expires - 60 if min_ttl is None else min(expires - 60, expires - min_ttl)
    assert point == close(expected)


@pytest.mark.parametrize(("issued", "expires"), [(1000.0, 1000.0), (1000.0, 900.0)])
def test_an_expiry_not_after_the_issue_time_renews_60_seconds_before_it(issued, expires):
    assert renew_at(issued, expires) == expires - 60


@pytest.mark.parametrize(("lifetime", "point"), [
    (3600, 2880), (300, 240), (299, 239), (200, 140), (120, 60), (119, 59.5), (90, 45),
    (1, 0.5),
])
def test_examples_from_the_docs(lifetime, point):
    assert renew_at(0.0, float(lifetime)) == pytest.approx(point)


# ---------------------------------------------------------------------------
# A JWT signed here, on a moving clock


@settings(max_examples=60, deadline=None)
@given(lifetime=st.integers(1, 86400), step=st.floats(0, 1, exclude_max=True))
def test_a_jwt_is_signed_again_exactly_from_its_renewal_point(tmp_path_factory, lifetime, step):
    from astra_auth.credentials.interface import SourceSettings
    from astra_auth.credentials.jwt import JwtSource
    from astra_auth.storage.config import Jwt, Target
    from tests.fakes import Clock, make_deps

    clock = Clock(1_700_000_000)
    deps = make_deps(tmp_path_factory.mktemp("jwt") / "config.toml", clock=clock,
                     environ={"ASTRA_AUTH_SIGNING_KEY": "an-hmac-secret-of-enough-length"})
    target = Target(name="api", auth_type="jwt",
                    jwt=Jwt(algorithm="HS256", lifetime=lifetime, secrets="env"))
    source = JwtSource(target, deps, SourceSettings())
    first = source.get()
    assert first.expires_at == 1_700_000_000 + lifetime
    if lifetime >= 300:
        point = 0.8 * lifetime
    elif lifetime >= 120:
        point = lifetime - 60
    else:
        point = lifetime / 2
    # Before the point: the same token, also from peek.
    clock.now = 1_700_000_000 + point * step
    assume(clock.now < 1_700_000_000 + point)  # a step of 0.99999... rounds up to it
    assert source.get() is first and source.peek() is first
    # At the point: a new one.
    clock.now = 1_700_000_000 + point
    assert source.peek() is None
    assert source.get() is not first


# ---------------------------------------------------------------------------
# After a 401: when a new credential can help (RefusalRule, bearer_error)


def credential(token: str | None) -> Credential:
    return Credential("header", "Authorization", f"Bearer {token}", token=token)


@pytest.mark.parametrize(("challenge", "error"), [
    ('Bearer error="invalid_token"', "invalid_token"),
    ('Bearer realm="api", error="insufficient_scope", scope="admin"', "insufficient_scope"),
    ("Bearer error=invalid_request", "invalid_request"),
    ('Bearer error = "invalid_token"', "invalid_token"),
    ('Bearer realm="api"', None),
    ('Bearer suberror="invalid_token"', None),
    ("", None),
    (None, None),
])
def test_the_bearer_error_of_a_challenge(challenge, error):
    assert bearer_error(challenge) == error


@pytest.mark.parametrize("challenge", [
    'Bearer error="insufficient_scope"', 'Bearer error="invalid_request"',
    'Bearer error="anything_else"'])
def test_a_401_naming_another_error_than_invalid_token_is_not_renewed(challenge):
    rule = RefusalRule()
    renewed: list[str] = []

    def renew() -> Credential:
        renewed.append("t-2")
        return credential("t-2")

    assert rule.respond(credential("t-1"), challenge, credential("t-1"), renew) is None
    assert renewed == []
    assert rule.decide(credential("t-1"), challenge, "t-1") == "stop"


@pytest.mark.parametrize("challenge", [None, 'Bearer error="invalid_token"', 'Bearer realm="x"'])
def test_a_401_for_the_current_credential_renews_once(challenge):
    rule = RefusalRule()
    fresh = credential("t-2")
    assert rule.decide(credential("t-1"), challenge, "t-1") == "renew"
    assert rule.respond(credential("t-1"), challenge, credential("t-1"),
                        lambda: fresh) is fresh
    # The fresh one refused too: the API refuses even new ones; no second renewal.
    assert rule.decide(fresh, challenge, "t-2") == "stop"
    assert rule.respond(fresh, challenge, fresh, lambda: credential("t-3")) is None


def test_a_401_for_an_older_credential_retries_with_the_current_one():
    rule = RefusalRule()
    current = credential("t-2")
    assert rule.decide(credential("t-1"), None, "t-2") == "current"
    assert rule.respond(credential("t-1"), None, current,
                        lambda: credential("t-3")) is current
    # Without a current one, the refused one is renewed.
    assert rule.decide(credential("t-1"), None, None) == "renew"


def test_a_credential_without_a_token_is_not_renewed():
    assert RefusalRule().decide(credential(None), None, None) == "stop"
