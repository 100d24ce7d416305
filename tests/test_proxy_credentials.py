"""What the proxy (and every other consumer) gets from the credentials layer:
the one renewal rule, the shared back-off, and the header check.

The renewal rule is checked with generated lifetimes and clocks; the shared
source with a fake inner source and a clock the test moves; the header check
through every consumer, as a user meets it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential
from astra_auth.credentials.renewal import renew_at
from astra_auth.credentials.shared import SharedSource, header_problem
from astra_auth.diagnosis.hints import explain
from astra_auth.storage.config import Bearer, Target
from tests.fakes import Clock

# ---------------------------------------------------------------------------
# The renewal rule

times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
lifetimes = st.floats(min_value=0.001, max_value=1e7, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(issued=times, lifetime=lifetimes, now_share=st.floats(min_value=0, max_value=1.2))
def test_renewal_at_80_percent_or_60_s_before_never_before_half(issued, lifetime, now_share):
    expires = issued + lifetime
    point = renew_at(issued, expires)
    tolerance = 1e-6 * max(1.0, abs(expires))
    # Never before half of the lifetime has passed ...
    assert point >= issued + lifetime / 2 - tolerance
    # ... and by 80 % of it at the latest.
    assert point <= issued + 0.8 * lifetime + tolerance
    if lifetime >= 300:  # 80 % of it comes first
        assert point == pytest.approx(issued + 0.8 * lifetime, abs=tolerance)
    elif lifetime >= 120:  # 60 s before expiry comes first
        assert point == pytest.approx(expires - 60, abs=tolerance)
    else:  # so short that half of it is the floor
        assert point == pytest.approx(issued + lifetime / 2, abs=tolerance)
    # A credential is used exactly until that point.
    now = issued + now_share * lifetime
    from astra_auth.credentials.oauth2 import CachedToken

    token = CachedToken("t", "Bearer", expires, issued_at=issued)
    assert token.fresh(now) == (now < point)


@settings(max_examples=300, deadline=None)
@given(issued=times, lifetime=lifetimes, min_ttl=st.floats(min_value=0, max_value=86400))
def test_min_ttl_is_a_demand_on_top_of_the_rule(issued, lifetime, min_ttl):
    expires = issued + lifetime
    point = renew_at(issued, expires, min_ttl)
    assert point <= renew_at(issued, expires)
    assert point <= expires - min_ttl + 1e-6 * max(1.0, expires)


def test_a_token_of_unknown_lifetime_is_renewed_60_s_before_expiry():
    assert renew_at(None, 1000.0) == 940.0
    assert renew_at(None, 1000.0, 300) == 700.0


@settings(max_examples=100, deadline=None)
@given(lifetime=st.integers(min_value=2, max_value=100_000),
       elapsed=st.floats(min_value=0, max_value=1.1))
def test_a_jwt_signed_here_is_renewed_by_the_same_rule(tmp_path_factory, lifetime, elapsed):
    from astra_auth.credentials.interface import SourceSettings
    from astra_auth.credentials.jwt import JwtSource
    from astra_auth.storage.config import Jwt
    from tests.fakes import make_deps

    clock = Clock(1_700_000_000)
    deps = make_deps(tmp_path_factory.mktemp("jwt") / "config.toml", clock=clock,
                     environ={"ASTRA_AUTH_SIGNING_KEY": "k" * 32})
    target = Target(name="signed", auth_type="jwt",
                    jwt=Jwt(algorithm="HS256", lifetime=lifetime, secrets="env"))
    source = JwtSource(target, deps, SourceSettings())
    first = source.get()
    clock.advance(elapsed * lifetime)
    point = renew_at(1_700_000_000, 1_700_000_000 + lifetime)
    renewed = source.get() is not first
    assert renewed == (clock.now >= point)


# ---------------------------------------------------------------------------
# The shared source: one call at a time, a back-off, one log line per category


@dataclass
class Inner:
    """A CredentialSource whose `get` does what the test scripts."""

    target: Target
    outcomes: list[object] = field(default_factory=list)
    calls: int = 0
    gate: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    on_event: object = None

    def get(self) -> Credential:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(30)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            self.on_event("failed", f"{self.target.name}: no token: {outcome}")  # type: ignore[operator]
            raise outcome
        assert isinstance(outcome, Credential)
        return outcome

    def peek(self) -> Credential | None:
        return None

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        return self.get()  # the next scripted outcome


def failure(category: Category, text: str = "it failed") -> CredentialError:
    return CredentialError(Failure(category, text), [f"fix {category}"])


def shared(*outcomes: object, timeout: float = 10.0, gate: threading.Event | None = None,
           min_ttl: float | None = None) -> tuple[SharedSource, Inner, Clock, list[str]]:
    clock = Clock(100.0)
    lines: list[str] = []
    target = Target(name="api", auth_type="bearer", bearer=Bearer())
    holder: dict[str, Inner] = {}

    def make(on_event):  # type: ignore[no-untyped-def]
        holder["inner"] = Inner(target, list(outcomes), gate=gate, on_event=on_event)
        return holder["inner"]

    source = SharedSource(make, target, environ={}, monotonic=clock, timeout=timeout,
                          on_event=lambda kind, line: lines.append(f"{kind}: {line}"),
                          clock=clock, min_ttl=min_ttl)
    return source, holder["inner"], clock, lines


def test_fifty_callers_during_an_outage_share_one_failed_call():
    gate = threading.Event()
    source, inner, _, lines = shared(failure(Category.SERVER_ERROR), gate=gate)
    errors: list[str | None] = []

    def ask() -> None:
        try:
            source.get()
        except CredentialError as exc:
            errors.append(exc.category)

    first = threading.Thread(target=ask)
    first.start()
    assert inner.entered.wait(30)  # the one call runs, held at the gate
    others = [threading.Thread(target=ask) for _ in range(49)]
    for thread in others:
        thread.start()
    gate.set()
    for thread in [first, *others]:
        thread.join(30)
    assert inner.calls == 1
    assert errors == ["server_error"] * 50
    assert lines == ["failed: api: no token: server_error: it failed"]


def test_after_a_failure_the_same_error_comes_back_at_once_for_a_doubling_back_off():
    source, inner, clock, _ = shared(failure(Category.SERVER_ERROR))
    calls_at: list[float] = []
    for _ in range(400):  # 100 s in steps of a quarter second
        before = inner.calls
        with pytest.raises(CredentialError) as caught:
            source.get()
        assert caught.value.category == "server_error"
        assert caught.value.hints == ["fix server_error"]
        if inner.calls > before:
            calls_at.append(clock.now - 100.0)
        clock.advance(0.25)
    # 1 s, then 2, 4, 8, 16, and 30 s at most between two tries.
    assert calls_at == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 61.0, 91.0]


def test_a_success_ends_the_back_off_and_a_failure_is_logged_once_per_change():
    ok = Credential("header", "Authorization", "Bearer fine", token="fine")
    source, inner, clock, lines = shared(
        failure(Category.SERVER_ERROR), failure(Category.SERVER_ERROR),
        failure(Category.TIMEOUT), ok, failure(Category.TIMEOUT))
    for _ in range(3):
        with pytest.raises(CredentialError):
            source.get()
        clock.advance(60)
    assert source.get() is ok
    clock.advance(0.1)
    inner.outcomes = [failure(Category.TIMEOUT)]
    source._checked = None  # noqa: SLF001 - make the next get ask the inner source
    with pytest.raises(CredentialError):
        source.get()
    assert lines == ["failed: api: no token: server_error: it failed",
                     "failed: api: no token: timeout: it failed",
                     "failed: api: no token: timeout: it failed"]


def expiring(at: float) -> Credential:
    return Credential("header", "Authorization", "Bearer current", token="current",
                      expires_at=at)


def test_a_failed_renewal_keeps_the_unexpired_credential_until_it_expires():
    current = expiring(100.0 + 100)  # the clock starts at 100
    source, inner, clock, lines = shared(current, failure(Category.SERVER_ERROR))
    assert source.get() is current
    clock.advance(85)  # renewal time: the provider is down
    assert source.get() is current
    assert inner.calls == 2
    assert source.get() is current  # in the back-off: the provider is not asked
    assert inner.calls == 2
    clock.advance(1)
    assert source.get() is current
    assert inner.calls == 3
    clock.advance(14)  # expired now
    with pytest.raises(CredentialError) as caught:
        source.get()
    assert caught.value.category == "server_error"
    assert lines == ["failed: api: no token: server_error: it failed (the current credential "
                     "stays in use until it expires, in 15 s)"]


def test_while_a_renewal_runs_other_callers_take_the_unexpired_credential_at_once():
    current = expiring(100.0 + 100)
    gate = threading.Event()
    source, inner, clock, _ = shared(current, current, timeout=30)
    assert source.get() is current
    clock.advance(85)
    inner.gate = gate
    first = threading.Thread(target=source.get)
    first.start()
    assert inner.entered.wait(30)
    assert source.get() is current  # the gate is still shut: no waiting
    assert inner.calls == 2
    gate.set()
    first.join(30)


def test_a_credential_the_api_refused_is_not_kept_when_its_renewal_fails():
    current = expiring(100.0 + 100)
    source, _, clock, _ = shared(current, failure(Category.SERVER_ERROR))
    assert source.get() is current
    with pytest.raises(CredentialError):
        source.renew(current)  # the API answered 401
    clock.advance(1)
    with pytest.raises(CredentialError) as caught:
        source.get()
    assert caught.value.category == "server_error"


def test_a_kept_credential_must_still_live_for_min_ttl():
    current = expiring(100.0 + 100)
    source, _, clock, _ = shared(current, failure(Category.SERVER_ERROR), min_ttl=30)
    assert source.get() is current
    clock.advance(69)  # 31 s left
    assert source.get() is current
    clock.advance(2)  # 29 s left
    with pytest.raises(CredentialError):
        source.get()


def test_a_caller_waits_for_another_call_no_longer_than_the_timeout():
    gate = threading.Event()
    ok = Credential("header", "Authorization", "Bearer fine", token="fine")
    source, inner, _, _ = shared(ok, timeout=0.2, gate=gate)
    first = threading.Thread(target=source.get)
    first.start()
    assert inner.entered.wait(30)
    with pytest.raises(CredentialError) as caught:
        source.get()
    gate.set()
    first.join(30)
    assert caught.value.category == "timeout"
    assert explain(caught.value).hints == [
        "The provider is slow to answer: the next request tries again."]
    assert inner.calls == 1


@pytest.mark.parametrize(("value", "problem"), [
    ("Bearer abc\r\nX-Evil: injected", "holds a line break"),
    ("Bearer abc\n", "holds a line break"),
    ("Bearer a\x00b", "holds a NUL character"),
    ("Bearer a\tb", "holds a control character (U+0009)"),
    ("Bearer a\x85b", "holds a control character (U+0085)"),
    ("Bearer tok€n", "holds a character outside Latin-1 (U+20AC)"),
])
def test_a_value_that_cannot_go_into_a_header_is_invalid_key(value, problem):
    assert header_problem(value) == problem
    source, _, _, lines = shared(Credential("header", "Authorization", value, token="x"))
    with pytest.raises(CredentialError) as caught:
        source.get()
    assert caught.value.category == "invalid_key"
    assert caught.value.exit_code == 3
    assert caught.value.message == (f"invalid_key: The bearer token of api {problem}, so it "
                                    "cannot go into an HTTP header; it is not sent.")
    # The source says what failed; the diagnosis layer says what to do.
    assert caught.value.hints == []
    assert explain(caught.value).hints == ["Store it again without it: astra-auth configure api "
                                           "--token-stdin --no-input"]
    assert lines == [f"failed: api: no credential: {caught.value.message}"]


@pytest.mark.parametrize("value", ["Bearer abc.DEF-123_~+/=", "Basic dTpw", "café"])
def test_a_value_that_fits_a_header_passes(value):
    assert header_problem(value) is None


# ---------------------------------------------------------------------------
# The proxy's log


def test_the_proxy_log_masks_the_current_token_after_a_long_scan_of_renewals(tmp_path):
    import io

    from astra_auth.proxy.server import Log
    from tests.fakes import make_deps

    err = io.StringIO()
    log = Log(make_deps(tmp_path / "c.toml", stderr=err), quiet=False)
    tokens = [f"tok{n:04d}-Walrus3Tundra5KLmQ" for n in range(100)]  # 100 renewals
    for token in tokens:
        log.remember(Credential("header", "Authorization", f"Bearer {token}", token=token))
    log.failure(f"provider echoed {tokens[-1]} and {tokens[-2]}")
    line = err.getvalue()
    assert tokens[-1] not in line and tokens[-2] not in line
    assert "provider echoed" in line and "••••••" in line
