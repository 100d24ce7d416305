"""The token cache's rules: a token is served only for the settings it was
made for, and every expiry said to be UTC is UTC."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from astra_auth.credentials.oauth2 import cache_key
from astra_auth.storage.config import OAuth2, Target
from tests.fakes import CLIENT_SECRET, Clock

# 2023-11-14 22:13:20 UTC; the test authorization server's tokens live an hour.
NOW = 1_700_000_000


def configure(cli, idp, *extra: str) -> None:  # type: ignore[no-untyped-def]
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url",
        idp.token_url, "--client-id", "scanner-app", "--url", "https://api.example.com",
        *extra, "--client-secret-stdin", stdin=f"{CLIENT_SECRET}\n")


def token(cli, *args: str, **kw: object):  # type: ignore[no-untyped-def]
    return cli("token", "api", *args, token_on_stdout=True, **kw)


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """Local time 5:30 ahead of UTC: an expiry printed in local time shows."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    mp.undo()
    time.tzset()


def oauth2_target(scope: str | None) -> Target:
    return Target(name="api", url="https://api.example.com", auth_type="oauth2",
                  oauth2=OAuth2(grant_type="client_credentials",
                                        token_url="https://idp.example.com/token",
                                        client_id="scanner-app", scope=scope))


def test_the_cache_key_holds_the_scope():
    keys = {cache_key(oauth2_target(scope), {}) for scope in (None, "read", "write", "read write")}
    assert len(keys) == 4
    assert cache_key(oauth2_target("read"), {}) == cache_key(oauth2_target("read"), {})


def test_a_scope_changed_in_the_file_by_hand_is_not_served_the_old_token(cli, idp, store):
    configure(cli, idp, "--scope", "read:things")
    first = token(cli).out
    assert json.loads(store.data["api:token"])["scope"] == "read:things"
    # Not through configure (which would drop the cache): only the key tells.
    text = cli.config_path.read_text()
    assert 'scope = "read:things"' in text
    cli.config_path.write_text(text.replace('scope = "read:things"', 'scope = "write:things"'))
    before = idp.token_requests()
    second = token(cli).out
    assert idp.token_requests() == before + 1
    assert second != first
    assert json.loads(store.data["api:token"])["scope"] == "write:things"


def test_token_json_gives_the_expiry_in_utc(cli, idp, far_from_utc):
    configure(cli, idp)
    data = json.loads(token(cli, "--format", "json", clock=Clock(NOW)).out)
    assert data["expires_at"] == "2023-11-14T23:13:20Z"


def test_targets_show_gives_the_cached_tokens_expiry_in_utc(cli, idp, far_from_utc):
    configure(cli, idp)
    token(cli, clock=Clock(NOW))
    shown = json.loads(cli("targets", "show", "api", "--json", clock=Clock(NOW)).out)
    assert shown["cached_token"] == "valid until 2023-11-14 23:13:20 UTC"


def test_a_jwts_times_are_shown_in_utc(far_from_utc):
    from astra_auth.commands.shared.report import _claim_text

    assert _claim_text("exp", NOW) == "1700000000 (2023-11-14 22:13:20 UTC)"
    assert _claim_text("iat", NOW + 0.5) == "1700000000.5 (2023-11-14 22:13:20 UTC)"
    assert _claim_text("sub", NOW) == "1700000000"


# ---------------------------------------------------------------------------
# The cache key: every setting that makes a token is in it


def settings_target(**changed: Any) -> Target:
    from dataclasses import replace

    base = OAuth2(grant_type="client_credentials", token_url="https://idp.example.com/token",
                  client_id="scanner-app")
    return Target(name="api", url="https://api.example.com", auth_type="oauth2",
                  oauth2=replace(base, **changed))


@pytest.mark.parametrize("changed", [
    {"token_url": "https://idp.example.com/other-token"},
    {"grant_type": "password"},
    {"client_id": "other-app"},
    {"client_auth": "post"},
    {"username": "john.doe"},
    {"scope": "read"},
    {"audience": "https://api.example.com"},
    {"secrets": "env"},
    {"extra_params": {"resource": "https://api.example.com"}},
    {"assertion_alg": "ES256"},
    {"assertion_audience": "https://idp.example.com"},
    {"certificate": "client.pem"},
    {"certificate_bound": True},
    {"dpop": True},
], ids=lambda changed: next(iter(changed)))
def test_each_setting_that_makes_a_token_changes_the_cache_key(changed):
    assert cache_key(settings_target(**changed), {}) != cache_key(settings_target(), {})


def test_dpop_tokens_of_each_algorithm_have_their_own_key():
    assert (cache_key(settings_target(dpop=True, dpop_alg="EdDSA"), {})
            != cache_key(settings_target(dpop=True), {}))


def test_the_cache_key_does_not_depend_on_the_order_of_extra_parameters():
    ab = settings_target(extra_params={"a": "1", "b": "2"})
    ba = settings_target(extra_params={"b": "2", "a": "1"})
    assert cache_key(ab, {}) == cache_key(ba, {})


def test_settings_side_by_side_are_not_taken_for_each_other():
    assert (cache_key(settings_target(scope="read", audience=None), {})
            != cache_key(settings_target(scope=None, audience="read"), {}))


@pytest.mark.parametrize("variable", [
    "ASTRA_AUTH_API_CLIENT_SECRET", "ASTRA_AUTH_CLIENT_SECRET", "ASTRA_AUTH_API_PASSWORD",
    "ASTRA_AUTH_API_PRIVATE_KEY", "ASTRA_AUTH_API_DPOP_KEY",
])
def test_a_secret_from_the_environment_is_in_the_cache_key(variable):
    target = settings_target()
    stored = cache_key(target, {})
    first = cache_key(target, {variable: "secret-one"})
    second = cache_key(target, {variable: "secret-two"})
    assert len({stored, first, second}) == 3
    assert cache_key(target, {variable: "secret-one"}) == first


def test_the_cache_key_is_a_sha256_hex_digest_with_no_secret_in_it():
    key = cache_key(settings_target(), {"ASTRA_AUTH_API_CLIENT_SECRET": "cs-77aa31"})
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")


# ---------------------------------------------------------------------------
# The expiries beside the config file (never a token)


def test_write_state_records_and_forgets_an_expiry(tmp_path):
    from astra_auth.storage.token_state import read_state, write_state

    config = tmp_path / "config.toml"
    write_state(config, "api", 1000.5)
    write_state(config, "other", 2000)
    assert json.loads((tmp_path / ".config.toml.tokens.json").read_text()) == {
        "api": 1000.5, "other": 2000}
    write_state(config, "api", None)
    assert read_state(config) == {"other": 2000.0}


def test_forgetting_an_expiry_that_was_never_recorded_writes_nothing(tmp_path):
    from astra_auth.storage.token_state import write_state

    write_state(tmp_path / "config.toml", "api", None)
    assert list(tmp_path.iterdir()) == []


def test_no_expiry_is_written_where_the_config_folder_is_missing(tmp_path):
    from astra_auth.storage.token_state import write_state

    write_state(tmp_path / "gone" / "config.toml", "api", 1000.0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "read"), [
    ('{"api": 1000, "b": 2.5, "flag": true, "s": "1000", "n": null}', {"api": 1000.0, "b": 2.5}),
    ("[1000]", {}),
    ("not json", {}),
    ("", {}),
])
def test_read_state_keeps_only_numbers(tmp_path, text, read):
    from astra_auth.storage.token_state import read_state

    (tmp_path / ".config.toml.tokens.json").write_text(text)
    assert read_state(tmp_path / "config.toml") == read


def test_read_state_of_a_file_that_is_not_text_is_empty(tmp_path):
    from astra_auth.storage.token_state import read_state

    (tmp_path / ".config.toml.tokens.json").write_bytes(b"\xff\xfe{")
    assert read_state(tmp_path / "config.toml") == {}


@pytest.mark.parametrize(("expires_at", "said"), [
    (None, "none"),
    (NOW - 1, "expired"),
    (NOW, "expired"),
    (NOW + 1, "valid until 2023-11-14 22:13:21 UTC"),
])
def test_describe_says_whether_the_cached_token_is_still_valid(expires_at, said):
    from astra_auth.storage.token_state import describe

    assert describe(expires_at, NOW) == said
