"""The token cache's rules: a token is served only for the settings it was
made for, and every expiry said to be UTC is UTC."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

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
