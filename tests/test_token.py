"""`astra-auth token`, the token cache, and the httpx auth for scanners."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from astra_auth.credentials.oauth2 import TokenSource
from tests.fakes import CLIENT_SECRET, PASSWORD, Clock

ENV = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD}


def setup_target(cli, idp, *, grant="password", name="api", client_id="scanner-app",
                 token_url=None, extra=()):
    args = ["configure", name, "--grant-type", grant, "--token-url", token_url or idp.token_url,
            "--client-id", client_id, *extra]
    if grant == "password":
        args += ["--username", "john.doe", "--password-stdin", "--client-secret-stdin"]
        cli(*args, stdin=f"{CLIENT_SECRET}\n{PASSWORD}\n")
    else:
        cli(*args, "--client-secret-stdin", stdin=f"{CLIENT_SECRET}\n")


def token(cli, *args, expect=0, **kw):
    return cli("token", *args, expect=expect, token_on_stdout=True, **kw)


def test_prints_only_the_token(cli, idp, store):
    setup_target(cli, idp)
    result = token(cli, "api")
    assert result.out.strip() == idp.state.issued[-1]
    assert result.out.count("\n") == 1 and result.err == ""


def test_formats(cli, idp):
    setup_target(cli, idp)
    bare = token(cli, "api").out.strip()
    assert token(cli, "api", "--format", "header").out == f"Authorization: Bearer {bare}\n"
    data = json.loads(token(cli, "api", "--format", "json").out)
    assert data["access_token"] == bare and data["token_type"] == "Bearer"
    assert data["expires_at"].endswith("Z")
    assert "--format" in cli("token", "api", "--format", "xml", expect=2).err


def test_second_call_with_a_valid_cached_token_makes_no_request(cli, idp, store):
    setup_target(cli, idp)
    first = token(cli, "api").out
    before = idp.token_requests()
    assert token(cli, "api").out == first
    assert idp.token_requests() == before
    cached = json.loads(store.data["api:token"])
    assert cached["access_token"] == first.strip()


def test_near_expiry_uses_the_refresh_token(cli, idp):
    setup_target(cli, idp)
    clock = Clock()
    first = token(cli, "api", clock=clock).out
    clock.advance(3600 - 59)  # inside the 60 s margin
    second = token(cli, "api", clock=clock).out
    assert second != first
    assert idp.state.grant_types[-1] == "refresh_token"


def test_min_ttl_sets_the_margin(cli, idp):
    setup_target(cli, idp)
    clock = Clock()
    token(cli, "api", clock=clock)
    clock.advance(2000)  # before 80 % of 3600 s: the renewal rule keeps it
    before = idp.token_requests()
    token(cli, "api", "--min-ttl", "60", clock=clock)
    assert idp.token_requests() == before
    token(cli, "api", "--min-ttl", "1800", clock=clock)  # 1600 s left: not enough
    assert idp.token_requests() == before + 1


def test_token_renews_at_80_percent_of_the_lifetime_like_every_consumer(cli, idp):
    setup_target(cli, idp)
    clock = Clock()
    first = token(cli, "api", clock=clock).out
    clock.advance(2879)  # 80 % of 3600 s is 2880 s
    assert token(cli, "api", clock=clock).out == first
    clock.advance(2)
    assert token(cli, "api", clock=clock).out != first


def test_failed_refresh_falls_back_to_a_new_grant(cli, idp, store):
    setup_target(cli, idp)
    clock = Clock()
    token(cli, "api", clock=clock)
    for record in idp.state.refresh_tokens.values():
        record.revoked = True
    clock.advance(4000)
    token(cli, "api", clock=clock)
    assert idp.state.grant_types[-2:] == ["refresh_token", "password"]


def test_client_credentials_without_refresh_token_gets_a_new_grant(cli, idp):
    setup_target(cli, idp, grant="client_credentials")
    clock = Clock()
    token(cli, "api", clock=clock)
    clock.advance(4000)
    token(cli, "api", clock=clock)
    assert idp.state.grant_types[-1] == "client_credentials"


def test_no_cache_always_asks(cli, idp):
    setup_target(cli, idp)
    token(cli, "api")
    before = idp.token_requests()
    token(cli, "api", "--no-cache")
    assert idp.token_requests() == before + 1


def test_changed_settings_or_secret_never_get_a_stale_token(cli, idp, store):
    setup_target(cli, idp, grant="client_credentials")
    first = token(cli, "api").out
    cli("configure", "api", "--scope", "read:things")  # configure drops the cache
    assert "api:token" not in store.data
    second = token(cli, "api").out
    assert second != first
    # A secret from the environment is part of the key.
    third = token(cli, "api", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}).out
    assert third != second


def test_remove_drops_the_cache(cli, idp, store):
    setup_target(cli, idp)
    token(cli, "api")
    cli("targets", "remove", "api", "--yes")
    assert store.data == {}


def test_secrets_env_has_no_cache_and_still_works(cli, idp, store):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env")
    before = idp.token_requests()
    token(cli, "api", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    token(cli, "api", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert idp.token_requests() == before + 2
    assert store.data == {}


def test_unusable_keyring_for_the_cache_still_gives_a_token(cli, idp, store):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env")
    # Keyring mode in the file, but the keyring fails: the secret from env wins.
    text = cli.config_path.read_text().replace('secrets = "env"', 'secrets = "keyring"')
    cli.config_path.write_text(text)
    store.fail_on = {"get", "set", "delete"}
    result = token(cli, "api", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert result.out.strip() == idp.state.issued[-1]


@pytest.mark.parametrize(("path", "lifetime"), [("no-expiry-jwt", None),
                                                 ("no-expiry-opaque", 300)])
def test_lifetime_without_expires_in(cli, faults, store, path, lifetime):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url",
        faults.url(path), "--client-id", "x", "--client-secret", CLIENT_SECRET)
    clock = Clock(1_700_000_000)
    token(cli, "api", clock=clock)
    cached = json.loads(store.data["api:token"])
    expected = 4102444800 if lifetime is None else clock.now + lifetime
    assert cached["expires_at"] == expected


def test_refresh_answer_without_a_refresh_token_keeps_the_old_one(cli, faults, store, leaks):
    from tests.servers.faults import NO_ROTATION_REFRESH

    leaks.watch(NO_ROTATION_REFRESH)
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url",
        faults.url("no-rotation"), "--client-id", "x", "--client-secret-stdin",
        stdin=f"{CLIENT_SECRET}\n")
    clock = Clock()
    assert token(cli, "api", clock=clock).out.startswith("opaque-granted-")
    assert json.loads(store.data["api:token"])["refresh_token"] == NO_ROTATION_REFRESH
    for _ in range(2):
        # Each renewal refreshes with the one refresh token ever issued: the
        # server refuses any other, and a new grant would say "granted".
        clock.advance(3600 - 30)
        assert token(cli, "api", clock=clock).out.startswith("opaque-refreshed-")
        assert json.loads(store.data["api:token"])["refresh_token"] == NO_ROTATION_REFRESH


def test_a_refresh_token_echoed_by_the_provider_is_masked(faults, leaks):
    from astra_auth.commands.shared.verbose import request_lines, response_lines
    from astra_auth.oauth.grant import request_token
    from astra_auth.oauth.token_request import GrantRequest

    refresh = "rt-echoed-back-2b7c9e41d0"
    leaks.watch(refresh)
    req = GrantRequest(token_url=faults.url("echo"), grant_type="refresh_token",
                       client_id="x", client_secret=CLIENT_SECRET, client_auth="post",
                       refresh_token=refresh)
    outcome = request_token(req, lambda: httpx.Client(timeout=5), timeout=5,
                            try_other_client_auth=False)
    assert outcome.failure is not None and outcome.failure.category == "invalid_client"
    description = outcome.failure.oauth_error_description
    assert "refresh_token=••••••" in description
    shown = "\n".join(line for exchange in outcome.exchanges
                      for line in request_lines(exchange, outcome.redactor)
                      + response_lines(exchange, outcome.redactor))
    leaks.record("the exchange --verbose would show", shown + description)


def test_configure_drops_the_cached_tokens_shown_expiry(cli, idp):
    setup_target(cli, idp, grant="client_credentials")
    token(cli, "api")
    assert "valid until" in json.loads(cli("targets", "show", "api", "--json").out)[
        "cached_token"]
    cli("configure", "api", "--scope", "read:things")
    assert json.loads(cli("targets", "show", "api", "--json").out)["cached_token"] == "none"
    header, row = cli("targets", "list").out.splitlines()
    column = header.index("CACHED TOKEN")
    assert row[column:].split("  ")[0] == "none"


def test_failure_goes_to_stderr_with_category_and_exit_code(cli, idp):
    setup_target(cli, idp)
    result = token(cli, "api", "--no-cache", expect=4,
                   environ={"ASTRA_AUTH_CLIENT_SECRET": "wrong"})
    assert result.out == ""
    assert "invalid_client" in result.err and "→" in result.err


def test_targets_list_and_show_tell_the_token_state_without_it(cli, idp):
    setup_target(cli, idp)
    assert "none" in cli("targets", "list").out
    tok = token(cli, "api").out.strip()
    listed = cli("targets", "list").out
    shown = json.loads(cli("targets", "show", "api", "--json").out)
    assert "valid until" in listed and shown["cached_token"].startswith("valid until")
    assert tok not in listed
    clock = Clock()
    clock.advance(7200)
    assert "expired" in cli("targets", "list", clock=clock).out


# ---------------------------------------------------------------------------
# The httpx auth


def _source(cli, idp, clock=None):
    from astra_auth.storage.lookup import lookup
    from tests.fakes import make_deps

    deps = make_deps(cli.config_path, secrets=cli.store, clock=clock)
    # As auth_for builds it: the renewal rule alone, no --min-ttl of its own.
    return TokenSource(lookup(deps.config.load(), "api", deps), deps)


def test_invalidate_forgets_the_token_in_memory_keyring_and_state(cli, idp, store):
    setup_target(cli, idp)
    first = token(cli, "api").out.strip()
    source = _source(cli, idp)
    before = idp.token_requests()
    assert source.get().token == first  # from the cache: no request
    assert idp.token_requests() == before
    source.invalidate()
    assert "api:token" not in store.data
    assert json.loads(cli("targets", "show", "api", "--json").out)["cached_token"] == "none"
    renewed = source.get().token
    assert idp.token_requests() == before + 1
    assert idp.state.grant_types[-1] == "password"  # a new grant: nothing left to refresh
    assert renewed != first
    assert json.loads(store.data["api:token"])["access_token"] == renewed


def test_auth_works_with_a_sync_client_and_renews_before_expiry(cli, idp):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    clock = Clock()
    auth = AstraAuth(_source(cli, idp, clock), idp.base)
    with httpx.Client(auth=auth, base_url=idp.base) as client:
        assert client.get("/api/resource").json() == {"sub": "john.doe", "ok": True}
        before = idp.token_requests()
        client.get("/api/resource")
        assert idp.token_requests() == before
        clock.advance(2879)  # 80 % of 3600 s is 2880 s: still the same token
        client.get("/api/resource")
        assert idp.token_requests() == before
        clock.advance(2)
        client.get("/api/resource")
        assert idp.token_requests() == before + 1
        assert idp.state.grant_types[-1] == "refresh_token"


def test_auth_renews_once_and_retries_once_on_401(cli, idp):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), idp.base)
    with httpx.Client(auth=auth, base_url=idp.base) as client:
        client.get("/api/resource")
        idp.state.revoked_access.update(idp.state.issued)  # the API now refuses it
        api_before = idp.state.requests["/api/resource"]
        response = client.get("/api/resource")
        assert response.status_code == 200
        assert idp.state.requests["/api/resource"] == api_before + 2


def test_auth_retries_only_once_when_the_api_keeps_refusing(cli, idp, faults):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), faults.base)
    with httpx.Client(auth=auth) as client:
        before = len(faults.requests_to("bare-401"))
        assert client.get(faults.url("bare-401")).status_code == 401
        assert len(faults.requests_to("bare-401")) == before + 2


def test_five_refused_requests_make_one_renewal_not_five(cli, idp, faults):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), faults.base)
    with httpx.Client(auth=auth) as client:
        tokens_before = idp.token_requests()
        requests_before = len(faults.requests_to("token-401"))
        for _ in range(5):
            assert client.get(faults.url("token-401")).status_code == 401
    # The first token, then one renewal; the renewed token is refused too, so
    # renewing again cannot help and the other four requests are not retried.
    assert idp.token_requests() == tokens_before + 2
    assert len(faults.requests_to("token-401")) == requests_before + 6


def test_insufficient_scope_is_not_renewed_nor_retried(cli, idp, faults):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), faults.base)
    with httpx.Client(auth=auth) as client:
        tokens_before = idp.token_requests()
        requests_before = len(faults.requests_to("scope-401"))
        assert client.get(faults.url("scope-401")).status_code == 401
    assert idp.token_requests() == tokens_before + 1
    assert len(faults.requests_to("scope-401")) == requests_before + 1


def test_auth_sends_the_credential_only_to_the_targets_origin(cli, idp, faults):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), idp.base)
    with httpx.Client(auth=auth) as client:
        assert client.get(f"{idp.base}/api/resource").status_code == 200
        before = len(faults.requests_to("elsewhere"))
        assert client.get(faults.url("elsewhere")).status_code == 200  # another port
    sent = faults.requests_to("elsewhere")[before:]
    assert len(sent) == 1
    assert "authorization" not in {k.lower() for k in sent[0][1]}


def test_auth_works_with_an_async_client(cli, idp):
    from astra_auth.integrations.httpx_auth import AstraAuth

    setup_target(cli, idp)
    auth = AstraAuth(_source(cli, idp), idp.base)

    async def call() -> list[int]:
        async with httpx.AsyncClient(auth=auth, base_url=idp.base) as client:
            first = await client.get("/api/resource")
            idp.state.revoked_access.update(idp.state.issued)
            second = await client.get("/api/resource")
            return [first.status_code, second.status_code]

    assert asyncio.run(call()) == [200, 200]


def test_auth_for_reads_the_configured_target(cli, idp, tmp_path, monkeypatch):
    import astra_auth

    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env", "--url", idp.base)
    monkeypatch.setenv("ASTRA_AUTH_CLIENT_SECRET", CLIENT_SECRET)
    auth = astra_auth.auth_for("api", config=cli.config_path)
    with httpx.Client(auth=auth, base_url=idp.base) as client:
        assert client.get("/api/resource").status_code == 200
    with pytest.raises(astra_auth.AstraError):
        astra_auth.auth_for("nope", config=cli.config_path)


# ---------------------------------------------------------------------------
# The real keyring, several processes at once


@pytest.mark.keyring
def test_token_cache_in_the_real_keyring(proc, real_keyring, idp):
    name = real_keyring.name()
    proc("configure", name, "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    first = subprocess.run([sys.executable, "-m", "astra_auth", "token", name], env=proc.env,
                           capture_output=True, text=True, check=True).stdout
    before = idp.token_requests()
    second = subprocess.run([sys.executable, "-m", "astra_auth", "token", name], env=proc.env,
                            capture_output=True, text=True, check=True).stdout
    assert first == second and idp.token_requests() == before
    assert json.loads(real_keyring.get(f"{name}:token"))["access_token"] == first.strip()


@pytest.mark.slow
@pytest.mark.keyring
def test_concurrent_token_processes_each_get_one_and_leave_a_consistent_cache(
        proc, real_keyring, idp):
    name = real_keyring.name()
    proc("configure", name, "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    before = idp.token_requests()
    children = [subprocess.Popen([sys.executable, "-m", "astra_auth", "token", name],
                                 env=proc.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(6)]
    tokens = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        proc.leaks.record("concurrent token stderr", err)
        tokens.append(out.strip())
    # The lock lets one process ask; the others find its token in the cache.
    assert idp.token_requests() == before + 1
    assert len(set(tokens)) == 1
    cached = json.loads(real_keyring.get(f"{name}:token"))
    assert cached["access_token"] == tokens[0]


def test_the_example_runs(proc, idp):

    proc("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env", "--url", idp.base)
    example = Path(__file__).resolve().parent.parent / "examples" / "call_api.py"
    done = subprocess.run([sys.executable, str(example), "api", f"{idp.base}/api/resource"],
                          env=dict(proc.env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET),
                          capture_output=True, text=True, timeout=60)
    proc.leaks.record("example", done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["sync:  200", "async: 200"]


def test_the_example_ends_with_the_category_and_a_hint_on_a_failing_target(proc, idp):

    proc("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env", "--url", idp.base)
    example = Path(__file__).resolve().parent.parent / "examples" / "call_api.py"
    # No secret in the environment: the grant cannot even be tried.
    done = subprocess.run([sys.executable, str(example), "api", f"{idp.base}/api/resource"],
                          env=proc.env, capture_output=True, text=True, timeout=60)
    proc.leaks.record("example", done.stdout + done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "error: missing_secret: no token for api"
    assert lines[1].startswith("hint: ")
    assert "ASTRA_AUTH_API_CLIENT_SECRET" in lines[1]
    assert done.returncode == 3


def test_dir_shows_the_public_names():
    import astra_auth

    names = dir(astra_auth)
    for name in ("auth_for", "AstraAuth", "TokenError", "AstraError", "__version__"):
        assert name in names


def test_peek_gives_only_a_fresh_token_and_never_asks_anyone(cli, idp):
    """The proxy's hot path: no keyring, no network, no lock."""
    setup_target(cli, idp)
    clock = Clock()
    source = _source(cli, idp, clock)
    assert source.peek() is None  # nothing in memory yet: the caller must get()
    got = source.get()
    calls, tokens = len(cli.store.calls), idp.token_requests()
    assert source.peek() == got
    clock.advance(2881)  # past 80 % of 3600 s: no longer fresh
    assert source.peek() is None
    assert (len(cli.store.calls), idp.token_requests()) == (calls, tokens)


def test_auth_for_refuses_a_target_without_an_api_url(cli, idp):
    import astra_auth

    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env")
    with pytest.raises(astra_auth.AstraError) as caught:
        astra_auth.auth_for("api", config=cli.config_path)
    assert caught.value.message == ("target 'api' has no API URL, so astra-auth cannot tell "
                                    "which requests may carry its credential")
    assert caught.value.hints == [
        "Set it with: astra-auth configure api --url https://api.example.com --no-input"]


def test_token_never_prints_a_cached_token_with_a_line_break(cli, idp, store):
    from astra_auth.storage.secretstore import entry

    cli("configure", "api", "--grant-type", "client_credentials", "--token-url",
        idp.token_url, "--client-id", "scanner-app", "--client-secret", CLIENT_SECRET)
    cli("token", "api", token_on_stdout=True)
    cached = json.loads(store.data[entry("api", "token")])
    cached["access_token"] = "abc\r\nX-Injected: 1"
    store.data[entry("api", "token")] = json.dumps(cached)
    result = cli("token", "api", "--format", "header", expect=3, token_on_stdout=True)
    assert result.out == "" and "invalid_key" in result.err
