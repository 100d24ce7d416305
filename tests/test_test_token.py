"""`test-token` against a real authorization server, a fault server and TLS."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from astra_auth.net.resolve import private_address_warning
from tests.fakes import (
    CLIENT_SECRET,
    PASSWORD,
    ScriptedPrompter,
    Step,
    add_client,
    run_test_token_json,
)

ENV = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD}


def add(cli, name, token_url, *, client_id="scanner-app", grant="client_credentials",
        client_auth="basic", extra=()):
    args = ["configure", name, "--grant-type", grant, "--token-url", token_url,
            "--client-id", client_id, "--client-auth", client_auth, *extra]
    if grant == "password":
        args += ["--username", "john.doe"]
    cli(*args, environ=ENV)


def run_json(cli, *args, expect=0, environ=None):
    result = cli("test-token", *args, "--json", expect=expect, environ=environ or {},
                 address_warning=private_address_warning)
    data = json.loads(result.out)  # exactly one JSON document on stdout
    return data, result


def issued(idp):
    return list(idp.state.issued)


# ---------------------------------------------------------------------------
# The real authorization server


@pytest.mark.parametrize("client_auth", ["basic", "post"])
@pytest.mark.parametrize("grant", ["client_credentials", "password"])
def test_grants_succeed_with_both_client_auth_methods(cli, idp, leaks, grant, client_auth):
    add(cli, "t", idp.token_url, grant=grant, client_auth=client_auth,
        extra=("--scope", "read:things"))
    data, result = run_json(cli, "t")
    leaks.watch(*issued(idp))
    assert data["ok"] is True
    assert data["grant_type"] == grant
    assert data["client_auth"] == client_auth
    assert data["http_status"] == 200
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 3600
    assert data["scope"] == "read:things"
    assert data["refresh_token_issued"] is (grant == "password")
    assert data["jwt_claims"]["client_id"] == "scanner-app"
    assert data["jwt_claims"]["sub"] == ("john.doe" if grant == "password" else "scanner-app")
    assert isinstance(data["elapsed_ms"], int)
    assert set(data) == {"ok", "target", "auth_type", "grant_type", "token_url", "http_status",
                         "token_type", "expires_in", "scope", "refresh_token_issued",
                         "jwt_claims", "client_auth", "secret_sources", "api", "elapsed_ms",
                         "warnings"}
    assert data["auth_type"] == "oauth2"
    assert data["api"] is None  # the target has no API URL
    assert data["secret_sources"] == ({"client_secret": "keyring", "password": "keyring"}
                                      if grant == "password" else {"client_secret": "keyring"})
    assert idp.state.grant_types[-1] == grant
    assert any("loopback" in w for w in data["warnings"])
    assert any("RFC 9700" in w for w in data["warnings"]) is (grant == "password")


def test_success_panel_shows_token_facts_but_never_the_token(cli, idp, leaks):
    add(cli, "t", idp.token_url)
    result = cli("test-token", "t", environ=ENV)
    leaks.watch(*issued(idp))
    assert "token obtained" in result.out
    assert "JWT claims (decoded; signature not verified)" in result.out
    assert "Bearer" in result.out and "3600 s" in result.out


def test_wrong_secret_is_invalid_client_after_trying_both_methods(cli, idp):
    add(cli, "t", idp.token_url)
    data, _ = run_json(cli, "t", expect=4, environ={"ASTRA_AUTH_CLIENT_SECRET": "wrong-secret"})
    assert data["ok"] is False
    assert data["error"]["category"] == "invalid_client"
    assert data["error"]["http_status"] == 401
    assert data["error"]["oauth_error"] == "invalid_client"
    hints = " ".join(data["hints"])
    assert "also tried client authentication `post`" in hints
    assert "Verify that the Access Token URL is reachable from the scanner's environment" in hints
    assert set(data) == {"ok", "target", "auth_type", "grant_type", "token_url",
                         "secret_sources", "error", "hints", "api", "elapsed_ms", "warnings"}


def test_wrong_password_is_invalid_grant_with_password_hints(cli, idp):
    add(cli, "t", idp.token_url, grant="password")
    data, result = run_json(cli, "t", expect=4, environ={"ASTRA_AUTH_PASSWORD": "wrong-pw"})
    assert data["error"]["category"] == "invalid_grant"
    assert data["error"]["oauth_error_description"] == "Invalid user credentials"
    assert ("Confirm the username and password are valid and that the Resource Owner Password "
            "flow is enabled on the identity provider.") in data["hints"]


def test_grant_the_client_may_not_use_is_unauthorized_client(cli, idp):
    add(cli, "t", idp.token_url, grant="password", client_id="cc-only")
    data, _ = run_json(cli, "t", expect=4)
    assert data["error"]["category"] == "unauthorized_client"
    hints = " ".join(data["hints"])
    assert "Enable the Resource Owner Password grant for client 'cc-only'" in hints
    assert "Client Credentials when no user context is needed" in hints
    assert "--grant-type client_credentials" in hints


def test_invalid_scope_shows_the_scope_sent(cli, idp):
    add(cli, "t", idp.token_url, extra=("--scope", "admin:everything"))
    data, _ = run_json(cli, "t", expect=4)
    assert data["error"]["category"] == "invalid_scope"
    assert "'admin:everything'" in data["hints"][0]


def test_other_client_auth_method_is_tried_once_and_reported(cli, idp):
    add(cli, "t", idp.token_url, client_id="post-only", client_auth="basic")
    before = idp.token_requests()
    data, result = run_json(cli, "t")
    assert idp.token_requests() - before == 2
    assert data["ok"] is True and data["client_auth"] == "post"
    assert ("astra-auth configure t --client-auth post --no-input" in data["warnings"][0])
    human = cli("test-token", "t", environ=ENV)
    assert "Attempts" in human.out and "second" in human.out


def test_basic_auth_encodes_special_characters(cli, idp):
    # CLIENT_SECRET contains ':' '%' '+' '/' and 'é': Authlib decodes per §2.3.1.
    add(cli, "t", idp.token_url, client_id="basic-only")
    data, _ = run_json(cli, "t")
    assert data["client_auth"] == "basic"


def test_verbose_masks_every_secret_and_token(cli, idp, leaks):
    add(cli, "t", idp.token_url, grant="password", client_auth="post")
    result = cli("test-token", "t", "--verbose", environ=ENV)
    leaks.watch(*issued(idp), *idp.state.refresh_tokens)
    assert "POST " + idp.token_url in result.err
    assert "client_secret=••••••" in result.err and "password=••••••" in result.err
    assert '"access_token": "••••••"' in result.err
    assert "HTTP 200" in result.err


def test_short_lived_token_warns(cli, idp):
    add(cli, "t", idp.token_url, client_id="short-lived")
    data, _ = run_json(cli, "t")
    assert any("expires in 30 seconds" in w for w in data["warnings"])


def test_string_expires_in_is_read_as_a_number(cli, faults):
    add(cli, "t", faults.url("string-expiry"))
    data, _ = run_json(cli, "t")
    assert data["expires_in"] == 3600
    assert data["token_type"] == "bearer"
    assert not any("expires in" in w for w in data["warnings"])


@pytest.mark.parametrize("client_auth", ["basic", "post"])
def test_a_secret_inside_a_jwt_claim_is_masked(cli, faults, client_auth):
    add(cli, "t", faults.url("jwt-echo"), client_auth=client_auth)
    data, _ = run_json(cli, "t")
    assert data["jwt_claims"]["client_secret"] == "••••••"
    assert data["jwt_claims"]["debug"] == "issued for ••••••"
    human = cli("test-token", "t", environ=ENV)
    assert "issued for ••••••" in human.out
    # The leak guard checks both outputs for CLIENT_SECRET.


def test_a_secret_inside_the_jwt_header_is_masked(cli, faults):
    add(cli, "t", faults.url("jwt-header-echo"))
    human = cli("test-token", "t", environ=ENV)
    assert "key of ••••••" in human.out
    # The leak guard checks the panel for CLIENT_SECRET.


def test_set_cookie_is_masked_in_verbose(cli, faults, leaks):
    from tests.servers.faults import SESSION_COOKIE

    leaks.watch(SESSION_COOKIE)
    add(cli, "t", faults.url("set-cookie"))
    result = cli("test-token", "t", "--verbose", environ=ENV)
    assert "set-cookie: ••••••" in result.err.splitlines()
    assert "HTTP 200 OK" in result.err


def test_missing_secret_is_category_missing_secret_exit_3(cli, idp):
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env")
    data, _ = run_json(cli, "t", expect=3)
    assert data["error"]["category"] == "missing_secret"
    assert "ASTRA_AUTH_CLIENT_SECRET" in data["error"]["message"]


# ---------------------------------------------------------------------------
# Faults


FAULTS = [
    ("html", "not_json", 6, 200, "login page"),
    ("not-found", "not_found", 6, 404, "Check the path of the Access Token URL (/not-found)"),
    ("method", "method_not_allowed", 6, 405, "Token endpoints accept POST"),
    ("rate", "rate_limited", 6, 429, "Wait 30 seconds"),
    ("server", "server_error", 6, 503, "failed on its side"),
    ("forbidden", "http_error", 6, 403, "WAF"),
    ("bare-401", "http_error", 6, 401, "which failed too"),
    ("no-token", "invalid_token_response", 6, 200, "RFC 6749 §5.1"),
    ("not-object", "invalid_token_response", 6, 200, "RFC 6749 §5.1"),
    ("plain-text", "not_json", 6, 200, "not an API gateway"),
    ("custom-error", "oauth_error", 4, 400, "its own error code 'access_denied'"),
    # Masking a 2 MiB token in the report takes seconds.
    pytest.param("huge", "invalid_token_response", 6, 200, "RFC 6749 §5.1",
                 marks=pytest.mark.slow),
    ("gzip-bomb", "invalid_token_response", 6, 200, "RFC 6749 §5.1"),
    ("truncated", "connection_error", 5, 200, "broke before a complete answer arrived"),
]


@pytest.mark.parametrize(("path", "category", "code", "status", "hint"), FAULTS)
def test_fault_answers_are_classified(cli, faults, path, category, code, status, hint):
    add(cli, "t", faults.url(path))
    data, result = run_json(cli, "t", expect=code)
    assert data["error"]["category"] == category, data
    assert data["error"]["http_status"] == status
    assert hint in " ".join(data["hints"])
    human = cli("test-token", "t", environ=ENV, expect=code)
    assert category in human.out and "What to do:" in human.out


def test_redirect_is_not_followed_and_target_gets_no_credentials(cli, faults):
    add(cli, "t", faults.url("redirect"))
    data, _ = run_json(cli, "t", expect=6)
    assert data["error"]["category"] == "redirect"
    assert "/capture" in data["error"]["message"]
    assert faults.requests_to("capture") == []


def test_slow_answer_times_out_within_timeout(cli, faults):
    add(cli, "t", faults.url("slow"))
    data, _ = run_json(cli, "t", "--timeout", "1", expect=5)
    assert data["error"]["category"] == "timeout"
    assert data["elapsed_ms"] < 4000
    assert "--timeout 30" in " ".join(data["hints"])


def test_trickled_answer_is_bounded_by_the_overall_timeout(cli, faults):
    add(cli, "t", faults.url("trickle"))
    data, _ = run_json(cli, "t", "--timeout", "1.5", expect=5)
    assert data["error"]["category"] == "timeout"
    assert data["elapsed_ms"] < 4000


def test_error_description_echoing_secrets_is_redacted(cli, faults, leaks):
    for client_auth in ("basic", "post"):
        add(cli, "t", faults.url("echo"), grant="password", client_auth=client_auth)
        data, result = run_json(cli, "t", expect=4)
        assert data["error"]["category"] == "invalid_client"
        assert "••••••" in data["error"]["oauth_error_description"]
        human = cli("test-token", "t", "--verbose", environ=ENV, expect=4)
        assert "••••••" in human.out
    # The leak guard checks every output above for CLIENT_SECRET and PASSWORD.


def test_connection_reset_is_connection_error_not_refused(cli, faults):
    add(cli, "t", faults.url("reset"))
    data, _ = run_json(cli, "t", expect=5)
    assert data["error"]["category"] == "connection_error"
    assert data["error"]["http_status"] is None
    # Which call meets the reset (a read, or a write still sending the form)
    # depends on timing; the category and the message's start do not.
    assert data["error"]["message"].startswith(
        f"The connection to 127.0.0.1:{faults.port} broke before a complete answer: ")


def test_closed_port_is_connection_refused(cli, closed_port):
    add(cli, "t", f"http://127.0.0.1:{closed_port}/token")
    data, _ = run_json(cli, "t", expect=5)
    assert data["error"]["category"] == "connection_refused"
    assert data["error"]["http_status"] is None


def test_name_that_does_not_resolve_is_dns_error(cli):
    add(cli, "t", "https://no-such-host.invalid/oauth/token")
    data, _ = run_json(cli, "t", expect=5)
    assert data["error"]["category"] == "dns_error"
    assert "no-such-host.invalid" in data["error"]["message"]


# ---------------------------------------------------------------------------
# TLS


def test_untrusted_certificate_is_tls_error_naming_ca_bundle(cli, tls_idp):
    add(cli, "t", tls_idp.token_url)
    data, _ = run_json(cli, "t", expect=5)
    assert data["error"]["category"] == "tls_error"
    assert "certificate verify failed" in data["error"]["message"]
    hints = " ".join(data["hints"])
    assert "--ca-bundle" in hints and "SSL_CERT_FILE" in hints


def test_ca_bundle_makes_the_same_server_trusted(cli, tls_idp):
    add(cli, "t", tls_idp.token_url)
    data, _ = run_json(cli, "t", "--ca-bundle", str(tls_idp.ca_file))
    assert data["ok"] is True


def test_ssl_cert_file_is_honoured(cli, tls_idp):
    add(cli, "t", tls_idp.token_url)
    data, _ = run_json(cli, "t", environ=ENV | {"SSL_CERT_FILE": str(tls_idp.ca_file)})
    assert data["ok"] is True


def test_certificate_for_another_name_is_tls_error(cli, tls_idp_wrong_name):
    add(cli, "t", tls_idp_wrong_name.token_url)
    data, _ = run_json(cli, "t", "--ca-bundle", str(tls_idp_wrong_name.ca_file), expect=5)
    assert data["error"]["category"] == "tls_error"
    assert data["error"]["message"] == (
        "The TLS connection to 127.0.0.1 failed: certificate verify failed: IP address "
        "mismatch, certificate is not valid for '127.0.0.1'.")
    assert data["hints"][0] == ("The certificate is not valid for '127.0.0.1': use the host "
                                "name the certificate was issued for in the Access Token URL.")


# ---------------------------------------------------------------------------
# Choosing targets, --all, options


def test_without_name_uses_the_only_target(cli, idp):
    add(cli, "only", idp.token_url)
    data, _ = run_json(cli)
    assert data["target"] == "only"


def test_without_name_and_several_targets_is_usage_error(cli, idp):
    add(cli, "a", idp.token_url)
    add(cli, "b", idp.token_url)
    result = cli("test-token", expect=2)
    assert "--all" in result.err and "a, b" in result.err


def test_all_lists_every_target_and_exits_with_most_severe(cli, idp, faults):
    add(cli, "good", idp.token_url)
    add(cli, "gone", faults.url("not-found"))
    cli("targets", "add", "bare")
    data, _ = run_json(cli, "--all", expect=6)
    assert [d["target"] for d in data] == ["gone", "good"]
    assert [d["ok"] for d in data] == [False, True]
    human = cli("test-token", "--all", environ=ENV, expect=6)
    assert "✓ Token obtained" in human.out and "✗ not_found" in human.out


def test_unconfigured_target_is_config_error(cli):
    cli("targets", "add", "bare")
    assert "no authentication configured" in cli("test-token", "bare", expect=3).err


@pytest.mark.parametrize(("args", "message"), [
    (["--timeout", "0"], "--timeout"),
    (["--timeout", "abc"], "--timeout"),
    (["--timeout", "9999"], "--timeout"),
    (["--ca-bundle", "/nonexistent/ca.pem"], "--ca-bundle"),
])
def test_bad_options_are_usage_errors(cli, idp, args, message):
    add(cli, "t", idp.token_url)
    assert message in cli("test-token", "t", *args, expect=2).err


def test_configure_test_flag_runs_the_grant_and_takes_its_exit_code(cli, idp):
    result = cli("configure", "t", "--grant-type", "client_credentials", "--token-url",
                 idp.token_url, "--client-id", "scanner-app", "--test",
                 environ={"ASTRA_AUTH_CLIENT_SECRET": "wrong"}, expect=4)
    assert "invalid_client" in result.out
    result = cli("configure", "t", "--test", environ=ENV)
    assert "token obtained" in result.out


def test_without_name_at_a_terminal_offers_a_pick_list(cli, idp):

    add(cli, "a", idp.token_url)
    add(cli, "b", idp.token_url)
    result = cli("test-token", tty=True, environ=ENV,
                 prompter=ScriptedPrompter([Step("text", "Target: a number or a name", "2")]))
    assert "b: token obtained" in result.out


def test_without_name_at_a_terminal_a_typed_name_works_and_a_wrong_one_is_asked_again(
        cli, idp):

    add(cli, "alpha-api", idp.token_url)
    add(cli, "beta-api", idp.token_url)
    result = cli("test-token", tty=True, environ=ENV, prompter=ScriptedPrompter([
        Step("text", "Target: a number or a name", ""),
        Step("text", "Target: a number or a name", "bta-api"),
        Step("text", "Target: a number or a name", "beta-api"),
    ]))
    assert "Type a number from the list or a target name. Try again." in result.err
    assert "No target named 'bta-api'; did you mean 'beta-api'? Try again." in result.err
    assert "beta-api: token obtained" in result.out


# ---------------------------------------------------------------------------
# Small things


def _unsigned_jwt() -> str:
    import base64

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return part({"alg": "none", "typ": "JWT"}) + "." + part({"sub": "scanner"}) + "."


def test_an_unsigned_jwt_is_warned_about_and_its_header_shown(cli, faults, leaks):
    token = _unsigned_jwt()
    leaks.watch(token)
    url = faults.answer(f"{uuid.uuid4().hex}/token", {
        "access_token": token, "token_type": "Bearer", "expires_in": 300})
    add_client(cli, "pay", url, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    data = run_test_token_json(cli, "pay", 0, environ=env)
    assert ("The token's JWT header says alg: none: it is not signed, so an API that accepts it "
            "would accept a forged one too. Ask the provider to sign its tokens.") in data["warnings"]
    panel = cli("test-token", "pay", environ=env).out
    assert "JWT header:" in panel and re.search(r"alg\s+none", panel)


def _add_faulty(cli, url):
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "c", "--client-secret", CLIENT_SECRET)


def test_huge_headers_are_bounded_and_classified(cli, faults):
    import json

    _add_faulty(cli, faults.url("huge-headers"))
    result = cli("test-token", "t", "--json", expect=5)
    error = json.loads(result.out)["error"]
    assert error["category"] == "connection_error"
    assert error["message"].endswith("RemoteProtocolError: Receive buffer too long.")


def test_truncated_chunked_body_is_classified(cli, faults):
    import json

    _add_faulty(cli, faults.url("chunked-truncated"))
    result = cli("test-token", "t", "--json", expect=5)
    error = json.loads(result.out)["error"]
    assert error["category"] == "connection_error"
    assert error["http_status"] == 200
    assert error["message"].startswith("The connection broke before the whole answer (HTTP 200) "
                                       "arrived: ")
