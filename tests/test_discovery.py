"""Discovery (--issuer), provider metadata, and provider-specific hints."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path

import pytest

from astra_auth.core.failure import Failure
from astra_auth.diagnosis.hints import Context
from astra_auth.diagnosis.providers import provider_hints, provider_of
from astra_auth.oauth.discovery import for_token_url, well_known_urls
from astra_auth.oauth.token_response import RawResponse, classify_response
from astra_auth.text.redact import Redactor
from tests.fakes import CLIENT_SECRET, ScriptedPrompter, Step, new_target

RECORDED = json.loads((Path(__file__).parent / "provider_errors" / "recorded.json").read_text())


def real_lookup(cli):
    """Deps' own best-effort metadata lookup, over the network (loopback here)."""
    import httpx

    return lambda url, ca_bundle: for_token_url(url, lambda: httpx.Client(timeout=3))


def test_well_known_urls_follow_oidc_and_rfc8414():
    assert well_known_urls("https://idp.example.com/realms/main") == [
        "https://idp.example.com/realms/main/.well-known/openid-configuration",
        "https://idp.example.com/.well-known/oauth-authorization-server/realms/main",
    ]


# ---------------------------------------------------------------------------
# A real OpenID provider (oidc-provider on Node.js)


def test_issuer_flag_reads_the_token_endpoint_and_client_auth(cli, oidc):
    result = cli("configure", "o", "--issuer", oidc.issuer, "--grant-type",
                 "client_credentials", "--client-id", "oidc-scanner",
                 "--client-secret", oidc.secret, "--scope", "read:things")
    assert f"Access Token URL from {oidc.issuer}/.well-known/openid-configuration" in result.err
    oauth = tomllib.loads(cli.config_path.read_text())["targets"]["o"]["oauth2"]
    assert oauth["token_url"] == oidc.token_url
    assert oauth["client_auth"] == "basic"  # client_secret_basic is listed first choice
    data = json.loads(cli("test-token", "o", "--json").out)
    assert data["ok"] is True and data["expires_in"] == 600


def test_grant_missing_from_metadata_warns_at_configure_time(cli, oidc):
    result = cli("configure", "o", "--issuer", oidc.issuer, "--grant-type", "password",
                 "--username", "u", "--client-id", "oidc-scanner", "--secrets", "env")
    assert "does not list the password grant in grant_types_supported" in result.err


def test_test_token_hints_cite_the_providers_metadata(cli, oidc):
    cli("configure", "o", "--grant-type", "password", "--username", "u", "--token-url",
        oidc.token_url, "--client-id", "oidc-scanner", "--secrets", "env")
    result = cli("test-token", "o", "--json", expect=4,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": oidc.secret, "ASTRA_AUTH_PASSWORD": "pw-not-this-one"},
                 metadata_lookup=real_lookup(cli))
    data = json.loads(result.out)
    assert data["error"]["category"] == "unsupported_grant_type", data
    assert any("lists grant_types_supported: implicit, authorization_code, client_credentials"
               in h for h in data["hints"])


def test_wrong_path_gets_the_token_endpoint_from_discovery(cli, oidc):
    cli("configure", "o", "--grant-type", "client_credentials", "--token-url",
        f"{oidc.issuer}/oauth/token", "--client-id", "oidc-scanner", "--secrets", "env")
    result = cli("test-token", "o", "--json", expect=6,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": oidc.secret},
                 metadata_lookup=real_lookup(cli))
    data = json.loads(result.out)
    assert data["error"]["category"] == "not_found"
    assert f"--token-url {oidc.token_url}" in data["hints"][0]


def test_walkthrough_offers_discovery_from_the_issuer(cli, oidc):
    prompter = ScriptedPrompter([
        *new_target("o", url=""),
        Step("select", "Authentication type", 0), Step("select", "Grant type", 0),
        Step("select", "Access Token URL", 1),  # I only know my issuer URL
        Step("text", "Issuer URL", "https://no-such-issuer.invalid"),
        Step("confirm", "Try another issuer URL", True),
        Step("text", "Issuer URL", oidc.issuer),
        Step("confirm", "Use it as the Access Token URL", True),
        Step("text", "Client ID", "oidc-scanner"),
        Step("select", "Client authentication", None),
        Step("secret", "Client secret", oidc.secret),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", False),
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert "no discovery document" in result.err
    assert f"names the token endpoint {oidc.token_url}" in result.err
    assert tomllib.loads(cli.config_path.read_text())["targets"]["o"]["oauth2"][
        "token_url"] == oidc.token_url


# ---------------------------------------------------------------------------
# RFC 8414 metadata (Authlib's server publishes only that)


def test_issuer_falls_back_to_rfc8414_metadata(cli, idp):
    result = cli("configure", "a", "--issuer", idp.base, "--grant-type", "client_credentials",
                 "--client-id", "scanner-app", "--client-secret", CLIENT_SECRET)
    assert "/.well-known/oauth-authorization-server" in result.err
    oauth = tomllib.loads(cli.config_path.read_text())["targets"]["a"]["oauth2"]
    assert oauth["token_url"] == idp.token_url


def test_issuer_without_metadata_is_a_clear_error(cli, faults):
    result = cli("configure", "a", "--issuer", faults.base, "--grant-type",
                 "client_credentials", "--client-id", "c", "--client-secret", CLIENT_SECRET,
                 expect=2)
    assert "no discovery document at the issuer" in result.err
    assert "--token-url" in result.err
    assert not cli.config_path.exists()


def test_unreachable_issuer_is_exit_5(cli, closed_port):
    result = cli("configure", "a", "--issuer", f"http://127.0.0.1:{closed_port}",
                 "--grant-type", "client_credentials", "--client-id", "c",
                 "--client-secret", CLIENT_SECRET, expect=5)
    assert "connection_refused" in result.err


def test_issuer_and_token_url_together_is_usage_error(cli):
    assert "cannot be used together" in cli(
        "configure", "a", "--issuer", "https://i.example.com", "--token-url",
        "https://i.example.com/t", expect=2).err


# ---------------------------------------------------------------------------
# Provider-specific hints, from recorded error bodies


@pytest.mark.parametrize("case", RECORDED, ids=lambda c: f"{c['provider']}: {c['case']}")
def test_recorded_provider_errors_get_provider_specific_hints(case):
    raw = RawResponse(case["status"], "Error", [("content-type", "application/json")],
                      json.dumps(case["body"]).encode(), False)
    failure = classify_response(raw, Redactor())
    assert isinstance(failure, Failure)
    assert provider_of(case["token_url"], failure) == case["provider"]
    ctx = Context("t", case["grant_type"], "scanner-app", "basic", case["token_url"],
                  case.get("scope"), case.get("audience"))
    text = " ".join(provider_hints(failure, ctx))
    for expected in case["expect"]:
        assert expected in text, (expected, text)


def test_unknown_providers_get_no_provider_hints():
    ctx = Context("t", "client_credentials", "c", "basic", "https://idp.example.com/token")
    raw = RawResponse(401, "x", [], b'{"error": "invalid_client"}', False)
    failure = classify_response(raw, Redactor())
    assert isinstance(failure, Failure)
    assert provider_hints(failure, ctx) == []


# ---------------------------------------------------------------------------
# --ca-bundle reaches the metadata lookup behind test-token's hints


@pytest.fixture
def tls_provider(tmp_path):
    """A provider on https with a private CA: its discovery document names
    /oauth/token; every other path answers 404."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

        def _answer(self, status, body):  # type: ignore[no-untyped-def]
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # type: ignore[no-untyped-def]  # noqa: N802
            if self.path == "/.well-known/openid-configuration":
                self._answer(200, {"issuer": base, "token_endpoint": f"{base}/oauth/token"})
            else:
                self._answer(404, {"detail": "not here"})

        def do_POST(self):  # type: ignore[no-untyped-def]  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(404, {"detail": "not here"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    base = f"https://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base, ca_file
    server.shutdown()


def test_ca_bundle_reaches_the_metadata_lookup_behind_the_hints(cli, tls_provider):
    base, ca_file = tls_provider
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url",
        f"{base}/wrong/token", "--client-id", "c", "--secrets", "env")
    result = cli("test-token", "t", "--json", "--ca-bundle", str(ca_file), expect=6,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET},
                 metadata_lookup="network")
    data = json.loads(result.out)
    assert data["error"]["category"] == "not_found"
    # Found only over TLS verified with the bundle: the lookup used it too.
    assert data["hints"][0] == (
        f"The provider's discovery document ({base}/.well-known/openid-configuration) names "
        f"the token endpoint {base}/oauth/token: astra-auth configure t --token-url "
        f"{base}/oauth/token --no-input")


def test_metadata_naming_another_issuer_is_not_used_for_hints(cli, faults):
    import uuid

    base = uuid.uuid4().hex[:12]
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": "https://idp.elsewhere.example",
                   "token_endpoint": f"{faults.base}/{base}/token"})
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url",
        f"{faults.base}/{base}/wrong", "--client-id", "c", "--secrets", "env")
    result = cli("test-token", "t", "--json", expect=6,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}, metadata_lookup="network")
    data = json.loads(result.out)
    assert data["error"]["category"] == "not_found"
    assert not any("discovery document" in h for h in data["hints"])
    # The same document with the right issuer is used: the test can fail.
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": f"{faults.base}/{base}",
                   "token_endpoint": f"{faults.base}/{base}/token"})
    data = json.loads(cli("test-token", "t", "--json", expect=6,
                          environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET},
                          metadata_lookup="network").out)
    assert data["hints"][0].startswith(
        f"The provider's discovery document ({faults.base}/{base}/.well-known/"
        "openid-configuration) names the token endpoint")


def test_a_405_cites_a_discovery_document_only_once_it_answered(cli, faults):
    import uuid

    base = uuid.uuid4().hex[:12]
    faults.answer(f"{base}/page", {"not": "a token endpoint"}, status=405)
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url",
        f"{faults.base}/{base}/page", "--client-id", "c", "--secrets", "env")
    result = cli("test-token", "t", "--json", expect=6,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}, metadata_lookup="network")
    data = json.loads(result.out)
    assert data["error"]["category"] == "method_not_allowed"
    # No document answers at this provider: none is named.
    assert not any(".well-known" in h for h in data["hints"])
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": f"{faults.base}/{base}", "token_endpoint": f"{faults.base}/{base}/t"})
    data = json.loads(cli("test-token", "t", "--json", expect=6,
                          environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET},
                          metadata_lookup="network").out)
    assert data["hints"][0] == (
        f"The provider's discovery document ({faults.base}/{base}/.well-known/"
        f"openid-configuration) names the token endpoint {faults.base}/{base}/t: "
        f"astra-auth configure t --token-url {faults.base}/{base}/t --no-input")


def unique() -> str:
    return uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------
# The issuer must be the one given


def test_a_discovery_document_for_another_issuer_is_refused(cli, faults):
    base = unique()
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": "https://idp.attacker.example",
                   "token_endpoint": f"{faults.base}/{base}/token"})
    result = cli("configure", "o", "--issuer", f"{faults.base}/{base}", "--grant-type",
                 "client_credentials", "--client-id", "c", "--secrets", "env", expect=2)
    assert "names the issuer 'https://idp.attacker.example'" in result.err
    assert not cli.config_path.exists()
